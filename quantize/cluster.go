package quantize

import (
	"fmt"
	"math"
	"runtime"
	"slices"
)

// Init selects where Lloyd's algorithm places its first centroids
// (paper, section 3.2).
type Init string

// Centroid initialisations. All of them are computed on the sorted values,
// so the result does not depend on the order of the input.
const (
	// Linear spaces the k centroids evenly between the smallest and the
	// largest value: c_j = min + j*(max-min)/(k-1). It keeps the rare large
	// weights, and won in the paper in every setting but 3 bits.
	Linear Init = "linear"
	// Density places c_j at the (j+1/2)/k quantile of the values, i.e.
	// evenly spaced points on the y axis of the empirical CDF.
	Density Init = "density"
	// Forgy picks k values at distinct positions uniformly at random
	// (seeded by Options.Seed).
	Forgy Init = "forgy"
	// KMeansPP is k-means++ (Arthur and Vassilvitskii, 2007): the first
	// centroid is a uniformly random value, each next one a value drawn
	// with probability proportional to D(x)^2, its squared distance to the
	// nearest centroid chosen so far (seeded by Options.Seed).
	KMeansPP Init = "kmeans++"
)

// DefaultMaxIter bounds Lloyd's iterations where Options.MaxIter is 0. An
// iteration costs O(k log n), microseconds, so the default lets Lloyd's
// algorithm reach a fixed point: on 10^7 N(0,1) values with k = 256 that
// takes about 23,000 iterations and gives 2.5 times less inertia than
// stopping by scikit-learn's rule (max_iter=300, tol=1e-4), which stops
// after 6.
const DefaultMaxIter = 100_000

// MaxClusters is the largest k: assignments are uint16 indices.
const MaxClusters = 1 << 16

// Options controls Cluster and QuantizeTensor. The zero value asks for
// linear initialisation and Lloyd's algorithm run to a fixed point.
type Options struct {
	// Bits is the index width b used by QuantizeTensor: k = 2^Bits
	// clusters, 1 <= Bits <= 16. Cluster takes k directly and ignores it.
	Bits int
	// Init is the initialisation; "" means Linear.
	Init Init
	// MaxIter bounds Lloyd's iterations; 0 means DefaultMaxIter.
	MaxIter int
	// Tol 0 iterates until the assignment no longer changes, a fixed point
	// of Lloyd's algorithm. Tol > 0 also stops once the sum over centroids
	// of the squared move in one iteration is at most Tol times the
	// variance of the values: scikit-learn's rule, whose defaults
	// MaxIter 300 and Tol 1e-4 give its iteration counts.
	Tol float64
	// Seed seeds Forgy and KMeansPP.
	Seed int64
	// Optimal replaces Lloyd's algorithm by the globally optimal 1-D
	// clustering found by dynamic programming (Wang and Song, Ckmeans.1d.dp,
	// 2011). Init, MaxIter and Tol are then unused.
	Optimal bool
	// Workers is the number of goroutines for the O(n) passes (sort,
	// prefix sums, assignment); 0 means runtime.GOMAXPROCS(0).
	Workers int
	// Lambda > 0 makes the weight sharing rate-aware: the k-means result
	// is refined by entropy-constrained iterations (ECSQ, see ecsq.go)
	// that send each value to the centroid minimising its squared error
	// plus Lambda*s^2 times the centroid's index code length -log2(p_k),
	// s^2 the variance of the values. Larger Lambda gives indices of lower
	// entropy and more distortion; clusters may empty and be dropped.
	// 0, the default, is plain k-means. MaxIter also bounds the ECSQ
	// iterations.
	Lambda float64
}

// Result is a 1-D clustering.
type Result struct {
	// Centroids are strictly ascending and each has at least one value
	// assigned. There are k of them unless the values have fewer than k
	// distinct values (then there is exactly one centroid per distinct
	// value and Inertia is 0), or, rarely, two centroids rounded to the
	// same float32 or a cluster emptied by Lloyd could not be refilled;
	// unused entries are dropped.
	Centroids []float32
	// Assign[i] indexes the centroid nearest to values[i]; a value exactly
	// halfway between two centroids goes to the lower one. With
	// Options.Lambda > 0 it is the centroid of least squared error plus
	// rate term instead (ties again to the lower one).
	Assign []uint16
	// Inertia is sum_i (values[i] - Centroids[Assign[i]])^2, accumulated
	// in float64.
	Inertia float64
	// Iterations is the number of Lloyd iterations run, counted as
	// scikit-learn's n_iter_ counts them; 0 for Optimal or when there are
	// at most k distinct values. With Options.Lambda > 0 the ECSQ
	// iterations are added.
	Iterations int
	// Converged is false only when Lloyd's algorithm or the ECSQ
	// iterations stopped at MaxIter.
	Converged bool
}

// NonFiniteError reports a NaN or infinite value, which no clustering can
// place.
type NonFiniteError struct {
	Name  string // tensor name; empty when clustering a bare slice
	Index int    // flat position of the value
	Value float32
}

func (e *NonFiniteError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("quantize: value %d is %v; only finite values can be clustered", e.Index, e.Value)
	}
	return fmt.Sprintf("quantize: layer %s: weight %d is %v; only finite weights can be clustered", e.Name, e.Index, e.Value)
}

// Cluster partitions values into at most k clusters minimising the inertia
// sum_i (values[i] - c[assign[i]])^2, by Lloyd's algorithm from opt.Init or,
// with opt.Optimal, exactly by dynamic programming.
//
// The values are sorted once (radix sort on the float bits). Because in one
// dimension the clusters of sorted centroids c_0 < ... < c_{k-1} are runs of
// the sorted values split at the midpoints (c_j + c_{j+1})/2, each Lloyd
// iteration finds the k-1 split points by binary search (galloping from
// the previous ones) and the cluster sums from block sums: O(k log n) per
// iteration instead of O(nk), so iterating to a fixed point costs little.
// The result is the same as that of the textbook algorithm from the same
// initial centroids, up to float64 rounding. An empty cluster is moved onto
// the value farthest from its centroid, as scikit-learn does. The final
// pass maps each value to its centroid through a table on its top 16 bits.
//
// The optimal clustering costs O(k d log d) time and 4(k-1)(d-k+1) bytes
// for d distinct values; it refuses inputs beyond MaxOptimalCells. Its
// costs come from prefix sums, so with values spanning more than about
// 10^8 in magnitude its optimality is only up to their rounding.
//
// With opt.Lambda > 0 the k-means result is then refined by
// entropy-constrained scalar quantization (see ecsq.go), which trades
// squared error for a lower entropy of the indices.
//
// Empty input gives an empty Result. NaN or ±Inf gives a *NonFiniteError.
func Cluster(values []float32, k int, opt Options) (*Result, error) {
	if k < 1 || k > MaxClusters {
		return nil, fmt.Errorf("quantize: %d clusters requested; want 1..%d", k, MaxClusters)
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return &Result{Centroids: []float32{}, Assign: []uint16{}, Converged: true}, nil
	}
	workers := opt.workers(len(values))
	s, err := newSorted(values, workers)
	if err != nil {
		return nil, err
	}
	res := &Result{Converged: true}
	var cent []float64
	switch {
	case s.distinct <= k:
		cent = s.distinctValues()
	case opt.Optimal:
		if cent, err = s.optimal(k); err != nil {
			return nil, err
		}
	default:
		init, err := s.initial(k, opt)
		if err != nil {
			return nil, err
		}
		cent = widen(init)
		res.Iterations, res.Converged = s.lloyd(cent, opt)
	}
	if opt.Lambda > 0 && len(cent) > 1 {
		cent, cuts, ends, it, conv := s.ecsq(cent, opt.Lambda, opt.MaxIter)
		res.Iterations += it
		res.Converged = res.Converged && conv
		res.Centroids, res.Assign, res.Inertia = s.finishECSQ(values, cent, cuts, ends, workers)
		return res, nil
	}
	res.Centroids, res.Assign, res.Inertia = s.finish(values, cent, workers)
	return res, nil
}

// InitialCentroids returns the k ascending initial centroids that Cluster
// would start Lloyd's algorithm from, rounded to float32 as Cluster rounds
// them. It exists so that other implementations can be started from the
// same point. With fewer than k distinct values it returns the distinct
// values.
func InitialCentroids(values []float32, k int, opt Options) ([]float32, error) {
	if k < 1 || k > MaxClusters {
		return nil, fmt.Errorf("quantize: %d clusters requested; want 1..%d", k, MaxClusters)
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return []float32{}, nil
	}
	s, err := newSorted(values, opt.workers(len(values)))
	if err != nil {
		return nil, err
	}
	if s.distinct <= k {
		return roundCentroids(s.distinctValues()), nil
	}
	return s.initial(k, opt)
}

func (opt *Options) check() error {
	switch opt.Init {
	case "", Linear, Density, Forgy, KMeansPP:
	default:
		return fmt.Errorf("quantize: unknown initialisation %q (want linear, density, forgy or kmeans++)", opt.Init)
	}
	if opt.MaxIter < 0 {
		return fmt.Errorf("quantize: negative MaxIter %d", opt.MaxIter)
	}
	if !(opt.Tol >= 0) || math.IsInf(opt.Tol, 0) {
		return fmt.Errorf("quantize: tolerance %v is not a finite non-negative number", opt.Tol)
	}
	if opt.Workers < 0 {
		return fmt.Errorf("quantize: negative Workers %d", opt.Workers)
	}
	return CheckLambda(opt.Lambda)
}

// CheckLambda reports whether lambda can be Options.Lambda: a finite
// number >= 0.
func CheckLambda(lambda float64) error {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return fmt.Errorf("quantize: rate weight lambda %v is not a finite non-negative number", lambda)
	}
	return nil
}

// minParallel is the input size below which goroutines cost more than
// they save.
const minParallel = 1 << 16

func (opt *Options) workers(n int) int {
	w := opt.Workers
	if w == 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if n < minParallel {
		return 1
	}
	return w
}

// roundCentroids converts centroids to float32 and sorts them (rounding
// keeps the order, but relocated or DP centroids need not come sorted).
func roundCentroids(c []float64) []float32 {
	out := make([]float32, len(c))
	for j, v := range c {
		out[j] = float32(v)
	}
	slices.Sort(out)
	return out
}
