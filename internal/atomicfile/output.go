package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// SameFileError refuses an output path that is one of the inputs.
type SameFileError struct {
	Out, In string
}

func (e *SameFileError) Error() string {
	if e.Out == e.In {
		return fmt.Sprintf("the output %s is the input: writing it would destroy the input; choose another output", e.Out)
	}
	return fmt.Sprintf("the output %s is the input %s (the same file): writing it would destroy the input; choose another output", e.Out, e.In)
}

// SameFile reports whether paths a and b name the same file: the same
// inode (through symbolic and hard links) when both exist, else the same
// location once the symbolic links of their directories are resolved.
func SameFile(a, b string) bool {
	sa, errA := os.Stat(a)
	sb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(sa, sb)
	}
	ra, okA := resolve(a)
	rb, okB := resolve(b)
	return okA && okB && ra == rb
}

// resolve is the absolute path of p with every symbolic link resolved; for
// a path that does not exist yet, that of its directory joined to its name.
func resolve(p string) (string, bool) {
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		p = filepath.Join(dir, filepath.Base(p))
	}
	abs, err := filepath.Abs(p)
	return abs, err == nil
}

// CheckOutput is run before any work: it refuses an output path that is
// one of the inputs (a *SameFileError) and checks that out's directory
// exists and takes a new file, by creating and removing a temporary file
// of the package's naming pattern. Empty inputs are ignored.
func CheckOutput(out string, inputs ...string) error {
	for _, in := range inputs {
		if in != "" && SameFile(out, in) {
			return &SameFileError{Out: out, In: in}
		}
	}
	return CheckWritable(out)
}

// CheckWritable checks that a file can be created in the directory of
// path, so that a long run does not discover at its end that it cannot
// write its result.
func CheckWritable(path string) error {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("the output %s is a directory", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	probe, err := os.CreateTemp(dir, tempPrefix(base)+"probe-*")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot write the output %s: directory %s: %w", path, dir, err)
	}
	probe.Close()
	return os.Remove(probe.Name())
}
