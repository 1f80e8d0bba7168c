package budget

import (
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
)

func TestElems(t *testing.T) {
	cases := []struct {
		dims []int
		want int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int{3, 4}, 12, true},
		{[]int{0, 1 << 40}, 0, true},
		{[]int{-1, 2}, 0, false},
		{[]int{1 << 31, 1 << 31, 1 << 31}, 0, false},
		{[]int{math.MaxInt, 2}, 0, false},
	}
	for _, c := range cases {
		got, err := Elems(c.dims...)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("Elems(%v) = %d, %v", c.dims, got, err)
		}
		if err != nil && !errors.Is(err, ErrSize) {
			t.Errorf("Elems(%v): error %v is not ErrSize", c.dims, err)
		}
	}
}

func TestCheck(t *testing.T) {
	b := New(1 << 20)
	if err := b.Check("ok", 1<<18, 4); err != nil {
		t.Fatal(err)
	}
	err := b.Check("layer fc1", 1<<18+1, 4)
	var ex *ExceededError
	if !errors.As(err, &ex) || ex.Need != 1<<20+4 || ex.Limit != 1<<20 {
		t.Fatalf("got %v", err)
	}
	for _, want := range []string{"layer fc1", "1 MiB", "SetLimit"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	if err := b.Check("huge", math.MaxInt64/2, 4); !errors.As(err, &ex) || ex.Need != math.MaxInt64 {
		t.Fatalf("overflow: got %v", err)
	}
	if err := b.Check("negative", -1, 4); err == nil {
		t.Fatal("negative count accepted")
	}
	if err := b.CheckDims("t", 4, 1<<40, 1<<40); !errors.Is(err, ErrSize) {
		t.Fatalf("CheckDims overflow: got %v", err)
	}
}

func TestReserveRelease(t *testing.T) {
	b := New(100)
	if err := b.Reserve("a", 60); err != nil {
		t.Fatal(err)
	}
	if err := b.Reserve("b", 50); err == nil {
		t.Fatal("reserved past the limit")
	}
	if b.Used() != 60 {
		t.Fatalf("failed reserve changed Used to %d", b.Used())
	}
	b.Release(60)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b.Reserve("c", 10) == nil {
				defer b.Release(10)
			}
		}()
	}
	wg.Wait()
	if b.Used() != 0 {
		t.Fatalf("Used %d after balanced reserves", b.Used())
	}
	if err := b.Reserve("neg", -5); err == nil {
		t.Fatal("negative reserve accepted")
	}
}

func TestNilIsDefault(t *testing.T) {
	var b *Budget
	if b.Limit() != Default.Limit() {
		t.Fatal("nil budget is not Default")
	}
	if DefaultLimit < 512<<20 || DefaultLimit > 4<<30 {
		t.Fatalf("default limit %d", DefaultLimit)
	}
}

func TestParseFormatBytes(t *testing.T) {
	for s, want := range map[string]int64{
		"4GiB": 4 << 30, "512MiB": 512 << 20, "1.5G": 3 << 29, "100k": 102400,
		"1048576": 1 << 20, " 2 GB ": 2 << 30, "7b": 7,
	} {
		if got, err := ParseBytes(s); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "abc", "-1G", "4XB", "1e30T"} {
		if _, err := ParseBytes(s); err == nil {
			t.Errorf("ParseBytes(%q) accepted", s)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 1536: "1.5 KiB", 16 << 30: "16 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestShapeBounded(t *testing.T) {
	dims := make([]int, 1<<20)
	if s := Shape(dims); len(s) > 60 || !strings.Contains(s, "1048576 dims") {
		t.Fatalf("Shape = %q", s)
	}
	if s := Shape([]int{2, 3}); s != "[2 3]" {
		t.Fatalf("Shape = %q", s)
	}
}
