// Package atomicfile writes files so that readers see either the old
// content or the complete new content, never a half-written file: the data
// goes to a temporary file in the same directory (named ".NAME.tmp-*"), is
// synced, then renamed over the destination.
//
// Nothing is left behind: a failed write removes its temporary file; the
// next write of the same output removes the stale ones a killed run left;
// and under NotifyContext a first SIGINT or SIGTERM cancels the work
// (whose failed writes clean up after themselves) while a second removes
// the files in flight before the process exits. A replaced file keeps its
// permissions; a new one gets 0644.
package atomicfile

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Write creates path atomically with the bytes that fill writes. If fill
// fails, the destination is left untouched and the temporary file removed.
func Write(path string, fill func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	RemoveStale(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	inFlight.add(tmp.Name())
	defer inFlight.remove(tmp.Name())
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err = fill(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("atomicfile: syncing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("atomicfile: closing %s: %w", path, err)
	}
	if err = os.Chmod(tmp.Name(), modeFor(path)); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}

// WriteBytes creates path atomically holding data.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// newFileMode is the mode of a file that did not exist before.
const newFileMode fs.FileMode = 0o644

// modeFor is the permission bits of the file being replaced, or 0644.
func modeFor(path string) fs.FileMode {
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return st.Mode().Perm()
	}
	return newFileMode
}

// tempPrefix is the start of the temporary files' names for output base.
func tempPrefix(base string) string { return "." + base + ".tmp-" }

// RemoveStale removes the temporary files that an interrupted write of
// path left in its directory (".NAME.tmp-*"), except those this process
// is writing now. It returns how many it removed.
func RemoveStale(path string) int {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	removed := 0
	prefix := tempPrefix(base)
	for _, e := range entries {
		name := filepath.Join(dir, e.Name())
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) || inFlight.has(name) {
			continue
		}
		if os.Remove(name) == nil {
			removed++
		}
	}
	return removed
}

// registry is the set of temporary files being written.
type registry struct {
	mu    sync.Mutex
	names map[string]bool
}

var inFlight = registry{names: map[string]bool{}}

func (r *registry) add(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names[name] = true
}

func (r *registry) remove(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.names, name)
}

func (r *registry) has(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.names[name]
}

// RemoveInFlight removes every temporary file being written now; a signal
// handler calls it before the process exits.
func RemoveInFlight() {
	inFlight.mu.Lock()
	defer inFlight.mu.Unlock()
	for name := range inFlight.names {
		os.Remove(name)
	}
}
