// Package dataset reads the user's own inputs for compressing a model with
// its original as the teacher: a folder of images, a .npy array, or
// MNIST-style IDX files, turned into model inputs by an explicit,
// serialisable Preprocess, plus the metrics that measure how well a
// compressed model agrees with the original on them.
//
// # Sources (Load)
//
// Load looks at what the path is, by content rather than by name:
//
//   - A folder of images (PNG, JPEG, GIF, BMP, WebP; the extension picks
//     the files, the content picks the decoder). When the folder has
//     sub-folders, each sub-folder is a class, named by its folder name;
//     classes are sorted by name and numbered from 0, and every image below
//     a class folder (at any depth) gets that label: the image-folder
//     convention of torchvision's ImageFolder. A class folder without
//     images keeps its number. A folder without sub-folders
//     is unlabelled. Images directly in a folder that also has class
//     sub-folders are an error (Options.NoLabels reads every image below
//     the folder as unlabelled instead). Files whose extension is not an
//     image's, and names starting with ".", are skipped and listed in
//     Set.Skipped; an image that fails to decode is an error naming the
//     file, or is skipped and listed when Options.SkipBad is set.
//   - A .npy file (magic "\x93NUMPY"). A floating-point array [N, ...] is
//     taken as N model inputs already preprocessed: X holds its values as
//     float32, Shape is its shape without N, and Set.Pre is nil. A uint8
//     array of shape [N,H,W], [N,H,W,C] or [N,C,H,W] (C = 1, 3 or 4) is N
//     images and gets the Preprocess; Options.ArrayLayout settles a shape
//     that could be either 4-D layout (NHWC is assumed otherwise, NumPy's
//     image convention). Other integer arrays are refused.
//     Labels come from Options.Labels (a .npy of N integers, or an IDX
//     labels file), or else from the sibling file STEM_labels.npy beside
//     STEM.npy when it exists (inputs.npy -> inputs_labels.npy).
//   - MNIST-style IDX files: a folder holding train-images-idx3-ubyte and
//     train-labels-idx1-ubyte and/or the t10k- pair (each optionally .gz;
//     Options.IDXSet chooses "train", the default when present, or "test"),
//     or a single images IDX file (magic 0x00000803, optionally gzipped),
//     with labels from Options.Labels or from the sibling named by the
//     standard convention (NAME-images-idx3-ubyte -> NAME-labels-idx1-ubyte).
//     The files are parsed by package mnist, which takes labels 0 to 9
//     (give other labels as a .npy file).
//   - A single image file: a set of one.
//
// Options.NoLabels drops the labels of any source. Options.Max keeps a
// random subset of Max samples chosen with Options.Seed (the first Max of
// a seeded permutation, so that a folder sorted by class still gives every
// class), not the first Max in sorted order; the samples kept stay in the
// source's order (sorted paths, or array order). Images skipped with
// Options.SkipBad are not replaced. Everything is deterministic: the same
// files and options give the same Set, whatever the number of workers.
//
// # Memory
//
// Every size that comes from input is checked before it is allocated: an
// image's canvas is read with image.DecodeConfig and must hold at most
// Options.MaxPixels pixels and fit the memory budget (package budget,
// Options.Budget or budget.Default) at 24 bytes a pixel, an upper bound of
// what the decoders allocate; the whole X is checked before it is
// allocated; .npy and IDX files are bounded by their own readers.
//
// # Preprocessing (Preprocess)
//
// For each image: convert to the model's channel count (grey to RGB
// replicates the grey value; RGB to grey is the luminance
// 0.299 R + 0.587 G + 0.114 B of ITU-R BT.601, the weights of PIL's
// convert("L"); alpha is dropped, as PIL's convert("RGB") drops it), put
// the channels in Order, resize to Height x Width with PIL's bilinear
// filter (a triangle filter widened by the reduction factor when
// shrinking, so that downscaling averages rather than aliases; values are
// kept in float32, not rounded to 8 bits between the passes), then map each
// 8-bit value v (16-bit samples are divided by 257) to
//
//	x = (v*Scale - Mean[c]) / Std[c]
//
// and write the values in Layout, NCHW (torch) or NHWC. A Scale of exactly
// float32(1/255) is computed as v/255, as torchvision's ToTensor does, so
// the inputs match a PyTorch pipeline bit for bit when no resize happens.
//
// # Agreement metrics
//
// Top1Agreement, Top1Accuracy, RelError, MaxRelError and IoU compare the
// outputs of a compressed model (the student) with the original's (the
// teacher) or with labels; their maths is documented on each function.
package dataset
