package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWhole(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.bin")
	if err := WriteBytes(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := Write(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want boom", err)
	}
	got, _ := os.ReadFile(p)
	if string(got) != "old" {
		t.Fatalf("failed write changed the file to %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary file left behind: %v", entries)
	}
}

func TestWriteKeepsPermissions(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secret.bin")
	if err := os.WriteFile(p, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteBytes(p, []byte("new")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("replaced file has mode %v, want 0600", st.Mode().Perm())
	}
	fresh := filepath.Join(dir, "fresh.bin")
	if err := WriteBytes(fresh, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o644 {
		t.Errorf("new file has mode %v, want 0644", st.Mode().Perm())
	}
}

func TestWriteRemovesStaleTemporaries(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.dcz")
	stale := filepath.Join(dir, ".out.dcz.tmp-12345")
	other := filepath.Join(dir, ".other.dcz.tmp-12345")
	for _, f := range []string{stale, other} {
		os.WriteFile(f, []byte("left by a killed run"), 0o644)
	}
	err := Write(p, func(w io.Writer) error {
		if n := RemoveStale(p); n != 0 {
			t.Errorf("RemoveStale removed %d files, among them the one in flight", n)
		}
		_, err := w.Write([]byte("data"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Error("stale temporary file of the output not removed")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("temporary file of another output removed")
	}
}

func TestCheckOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "model.safetensors")
	os.WriteFile(in, []byte("model"), 0o644)
	link := filepath.Join(dir, "link.safetensors")
	os.Symlink(in, link)
	hard := filepath.Join(dir, "hard.safetensors")
	os.Link(in, hard)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	for _, out := range []string{in, link, hard, filepath.Join(sub, "..", "model.safetensors"), dir + "/./model.safetensors"} {
		var se *SameFileError
		if err := CheckOutput(out, "", in); !errors.As(err, &se) {
			t.Errorf("output %s: got %v, want a SameFileError", out, err)
		}
	}
	// Not yet existing on both sides, same place through a linked directory.
	alias := filepath.Join(dir, "alias")
	os.Symlink(sub, alias)
	if !SameFile(filepath.Join(alias, "new.dcz"), filepath.Join(sub, "new.dcz")) {
		t.Error("a new path through a linked directory is not the same file")
	}
	if err := CheckOutput(filepath.Join(dir, "out.dcz"), in); err != nil {
		t.Errorf("distinct output refused: %v", err)
	}
	if err := CheckOutput(filepath.Join(dir, "missing", "out.dcz"), in); err == nil {
		t.Error("output in a missing directory accepted")
	}
	if err := CheckOutput(sub, in); err == nil {
		t.Error("a directory accepted as the output file")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 5 {
		t.Errorf("CheckOutput left files: %v", entries)
	}
	got, _ := os.ReadFile(in)
	if string(got) != "model" {
		t.Error("input changed")
	}
}
