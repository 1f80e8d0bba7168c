// Command kmeans times deepcompress's 1-D k-means (quantize.Cluster)
// against scikit-learn's KMeans on the same float32 data, from the same
// linear initial centroids, and prints both times, their ratio and both
// inertias. It is run by bench/kmeans_vs_sklearn.sh.
//
// Data sets: fc1.weight of LeNet-300-100 pruned to its 8 % largest
// magnitudes (about 18.8K values), and 10 million N(0,1) values (seed 1).
// deepcompress runs in-process with 1 and with 2 threads (GOMAXPROCS and
// Options.Workers); scikit-learn runs in bench/kmeans_sklearn.py under
// /usr/bin/python3 on one thread (OMP_NUM_THREADS=1, threadpoolctl).
package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/deepcompress/deepcompress/internal/atomicfile"
	"github.com/deepcompress/deepcompress/quantize"
)

func main() {
	dir := flag.String("dir", "", "work directory for the raw data (default: a new temporary directory, removed at exit)")
	model := flag.String("model", "../shared/models/lenet300.safetensors", "LeNet-300-100 safetensors file")
	python := flag.String("python", "/usr/bin/python3", "Python with scikit-learn")
	script := flag.String("sklearn", "bench/kmeans_sklearn.py", "the scikit-learn timing script")
	n := flag.Int("n", 10_000_000, "number of normal values")
	reps := flag.Int("reps", 5, "deepcompress repetitions per case (the fastest is reported)")
	skReps := flag.Int("skreps", 3, "scikit-learn repetitions for cases under 1M values (1 above)")
	cases := flag.String("cases", "fc1:64,fc1:256,normal:32,normal:256", "data:k pairs to run")
	flag.Parse()
	if err := run(*dir, *model, *python, *script, *n, *reps, *skReps, *cases); err != nil {
		fmt.Fprintln(os.Stderr, "kmeans:", err)
		os.Exit(1)
	}
}

type dataset struct {
	name   string
	values []float32
	file   string
}

func run(dir, model, python, script string, n, reps, skReps int, cases string) error {
	if dir == "" {
		d, err := os.MkdirTemp("", "kmeans-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	sets := map[string]*dataset{}
	fc1, err := prunedFC1(model, 0.08)
	if err != nil {
		return err
	}
	sets["fc1"] = &dataset{name: "lenet300 fc1 (8% kept)", values: fc1}
	sets["normal"] = &dataset{name: fmt.Sprintf("N(0,1) x %d", n), values: normal(n, 1)}
	for key, d := range sets {
		d.file = filepath.Join(dir, key+".f32")
		if err := writeFloats(d.file, d.values); err != nil {
			return err
		}
	}

	fmt.Printf("deepcompress: %s, %s/%s, %d CPUs; fastest of %d runs\n", runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), reps)
	fmt.Printf("scikit-learn: %s %s, one thread; fastest of %d runs below 1M values, 1 run above\n", python, script, skReps)
	fmt.Println("All runs start from the same linear centroids (numpy.linspace(min, max, k) rounded to float32).")
	fmt.Println("Inertia: sum (x - c[label])^2 in float64 with the float32 centroids, for both.")
	var failed []string
	for _, c := range strings.Split(cases, ",") {
		key, kstr, ok := strings.Cut(c, ":")
		d := sets[key]
		var k int
		if _, err := fmt.Sscan(kstr, &k); !ok || d == nil || err != nil {
			return fmt.Errorf("bad case %q (want fc1:K or normal:K)", c)
		}
		row, err := runCase(d, k, dir, python, script, reps, skReps)
		if err != nil {
			return err
		}
		row.print()
		if msg := row.check(); msg != "" {
			failed = append(failed, msg)
		}
	}
	fmt.Println()
	fmt.Println("sklearn: KMeans(n_clusters=k, init=centroids, n_init=1, algorithm='lloyd', max_iter=300, tol=1e-4).fit(x), x float32 [n,1].")
	fmt.Println("dc, sklearn's rule: quantize.Cluster with MaxIter 300, Tol 1e-4 (scikit-learn's stopping rule).")
	fmt.Println("dc, fixed point: quantize.Cluster with its defaults: Lloyd until the assignment no longer changes.")
	fmt.Println("dc times include the sort, Lloyd, the assignment of every value and the inertia; 1T/2T: GOMAXPROCS and Workers 1/2.")
	fmt.Println("CPU: user+system time of the process, which a shared machine does not inflate; sk/1T (CPU) compares those.")
	fmt.Println("Acceptance (10M values): sklearn / dc (1 thread, wall and CPU) >= 20 (target 100), dc inertia <= sklearn's.")
	if len(failed) > 0 {
		return errors.New(strings.Join(failed, "; "))
	}
	fmt.Println("acceptance: met")
	return nil
}

// run is one deepcompress configuration on one case.
type dcRun struct {
	name       string
	opt        quantize.Options
	t1, t2     time.Duration // wall clock, 1 and 2 threads
	cpu1       time.Duration // CPU time of the process, 1 thread
	inertia    float64
	iterations int
	used       int
}

type result struct {
	data string
	n, k int
	dc   []*dcRun // sklearn's rule, fixed point, optimal DP (when feasible)
	sk   skResult
}

type skResult struct {
	Time           float64 `json:"time"`
	CPU            float64 `json:"cpu"`
	Inertia        float64 `json:"inertia"`
	InertiaSklearn float64 `json:"inertia_sklearn"`
	NIter          int     `json:"n_iter"`
	ClustersUsed   int     `json:"clusters_used"`
	Threadpools    string  `json:"threadpools"`
}

func runCase(d *dataset, k int, dir, python, script string, reps, skReps int) (*result, error) {
	init, err := quantize.InitialCentroids(d.values, k, quantize.Options{Init: quantize.Linear})
	if err != nil {
		return nil, err
	}
	initFile := filepath.Join(dir, fmt.Sprintf("init-%d-%d.f32", len(d.values), k))
	if err := writeFloats(initFile, init); err != nil {
		return nil, err
	}
	r := &result{data: d.name, n: len(d.values), k: k, dc: []*dcRun{
		{name: "dc, sklearn's rule", opt: quantize.Options{MaxIter: 300, Tol: 1e-4}},
		{name: "dc, fixed point", opt: quantize.Options{}},
	}}
	if len(d.values) <= 1_000_000 {
		r.dc = append(r.dc, &dcRun{name: "dc, optimal (DP)", opt: quantize.Options{Optimal: true}})
	}
	for _, run := range r.dc {
		for _, threads := range []int{1, 2} {
			opt := run.opt
			opt.Workers = threads
			best, cpu, res, err := timeCluster(d.values, k, opt, threads, reps)
			if err != nil {
				return nil, err
			}
			if threads == 1 {
				run.t1, run.cpu1, run.inertia, run.iterations, run.used = best, cpu, res.Inertia, res.Iterations, len(res.Centroids)
			} else {
				run.t2 = best
			}
		}
	}
	sr := skReps
	if len(d.values) >= 1_000_000 {
		sr = 1
	}
	cmd := exec.Command(python, script, d.file, initFile, fmt.Sprint(sr))
	cmd.Env = append(os.Environ(), "OMP_NUM_THREADS=1", "OPENBLAS_NUM_THREADS=1", "MKL_NUM_THREADS=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", python, script, err)
	}
	if err := json.Unmarshal(out, &r.sk); err != nil {
		return nil, fmt.Errorf("%s: bad output %q: %w", script, out, err)
	}
	return r, nil
}

// timeCluster runs Cluster reps times with GOMAXPROCS=threads and returns
// the fastest wall-clock time, the least CPU time of the process and the
// last result. The machine may be shared: CPU time does not count the
// time other processes hold the cores.
func timeCluster(x []float32, k int, opt quantize.Options, threads, reps int) (time.Duration, time.Duration, *quantize.Result, error) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(threads))
	best, bestCPU := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	var res *quantize.Result
	for range reps {
		runtime.GC()
		t0, c0 := time.Now(), cpuTime()
		r, err := quantize.Cluster(x, k, opt)
		el, cpu := time.Since(t0), cpuTime()-c0
		if err != nil {
			return 0, 0, nil, err
		}
		best, bestCPU, res = min(best, el), min(bestCPU, cpu), r
	}
	return best, bestCPU, res, nil
}

// cpuTime is the user plus system CPU time of this process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (r *result) print() {
	fmt.Printf("\n%s, n = %d, k = %d\n", r.data, r.n, r.k)
	fmt.Printf("  %-20s %10s %10s %10s %7s %7s %7s %8s %5s  %-14s %s\n", "", "1T wall", "1T CPU", "2T wall",
		"sk/1T", "(CPU)", "sk/2T", "iters", "used", "inertia", "vs sklearn")
	sk := r.sk
	fmt.Printf("  %-20s %10s %10s %10s %7s %7s %7s %8d %5d  %-14.8g (sklearn's own inertia_ %.8g)\n",
		"sklearn KMeans", secs(sk.Time), secs(sk.CPU), "-", "", "", "", sk.NIter, sk.ClustersUsed, sk.Inertia, sk.InertiaSklearn)
	for _, d := range r.dc {
		fmt.Printf("  %-20s %10s %10s %10s %7.1f %7.1f %7.1f %8d %5d  %-14.8g %+.4f%%\n",
			d.name, secs(d.t1.Seconds()), secs(d.cpu1.Seconds()), secs(d.t2.Seconds()),
			sk.Time/d.t1.Seconds(), sk.CPU/d.cpu1.Seconds(), sk.Time/d.t2.Seconds(),
			d.iterations, d.used, d.inertia, 100*(d.inertia/sk.Inertia-1))
	}
	fmt.Printf("  sklearn thread pools: %s\n", sk.Threadpools)
}

// check applies the acceptance rule to the 10M-value cases: both
// deepcompress Lloyd runs at least 20 times faster on one thread, and the
// default (fixed point) inertia no worse.
func (r *result) check() string {
	if r.n < 10_000_000 {
		return ""
	}
	for _, d := range r.dc[:2] {
		ratio := min(r.sk.Time/d.t1.Seconds(), r.sk.CPU/d.cpu1.Seconds())
		if ratio < 20 {
			return fmt.Sprintf("%s k=%d: %s only %.1fx faster than scikit-learn (need 20x)", r.data, r.k, d.name, ratio)
		}
	}
	if fp := r.dc[1]; fp.inertia > r.sk.Inertia {
		return fmt.Sprintf("%s k=%d: inertia %.8g worse than scikit-learn's %.8g", r.data, r.k, fp.inertia, r.sk.Inertia)
	}
	return ""
}

func secs(s float64) string {
	if s < 1 {
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.2f s", s)
}

// normal returns n N(0,1) float32 values from a seeded PCG.
func normal(n int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 0))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// prunedFC1 reads fc1.weight from a safetensors file and returns, in their
// original order, the round(keep*n) weights of largest magnitude.
func prunedFC1(path string, keep float64) ([]float32, error) {
	w, err := readTensor(path, "fc1.weight")
	if err != nil {
		return nil, err
	}
	order := make([]int, len(w))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return -cmpAbs(w[a], w[b])
	})
	kept := order[:int(math.Round(keep*float64(len(w))))]
	slices.Sort(kept)
	out := make([]float32, len(kept))
	for i, p := range kept {
		out[i] = w[p]
	}
	return out, nil
}

func cmpAbs(a, b float32) int {
	x, y := math.Abs(float64(a)), math.Abs(float64(b))
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// readTensor reads one F32 tensor from a safetensors file: an 8-byte
// little-endian header length, a JSON header mapping names to dtype, shape
// and data_offsets, then the data.
func readTensor(path, name string) ([]float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var hlen uint64
	if err := binary.Read(f, binary.LittleEndian, &hlen); err != nil {
		return nil, fmt.Errorf("%s: reading header length: %w", path, err)
	}
	if hlen > uint64(st.Size())-8 {
		return nil, fmt.Errorf("%s: header length %d exceeds the file", path, hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	var entries map[string]json.RawMessage
	if err := json.Unmarshal(hdr, &entries); err != nil {
		return nil, fmt.Errorf("%s: bad header: %w", path, err)
	}
	var e struct {
		Dtype   string   `json:"dtype"`
		Shape   []int    `json:"shape"`
		Offsets [2]int64 `json:"data_offsets"`
	}
	raw, ok := entries[name]
	if !ok {
		return nil, fmt.Errorf("%s: no tensor %q", path, name)
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", path, name, err)
	}
	numel := int64(1)
	for _, d := range e.Shape {
		if d < 0 || d > 1<<31 {
			return nil, fmt.Errorf("%s: tensor %q: bad shape %v", path, name, e.Shape)
		}
		numel *= int64(d)
	}
	data := int64(8 + hlen)
	if e.Dtype != "F32" || e.Offsets[0] < 0 || e.Offsets[1]-e.Offsets[0] != 4*numel || data+e.Offsets[1] > st.Size() {
		return nil, fmt.Errorf("%s: tensor %q: unsupported dtype %s or offsets %v out of range", path, name, e.Dtype, e.Offsets)
	}
	buf := make([]byte, 4*numel)
	if _, err := f.ReadAt(buf, data+e.Offsets[0]); err != nil {
		return nil, fmt.Errorf("%s: tensor %q: %w", path, name, err)
	}
	out := make([]float32, numel)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return out, nil
}

func writeFloats(path string, x []float32) error {
	buf := make([]byte, 4*len(x))
	for i, v := range x {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
	}
	return atomicfile.WriteBytes(path, buf)
}
