package dataset

import (
	"math/rand/v2"
	"testing"
)

func TestShiftMovesContent(t *testing.T) {
	// One 1x3x3 sample with a bright centre on a background of -1.
	x := []float32{-1, -1, -1, -1, 5, -1, -1, -1, -1}
	rng := rand.New(rand.NewPCG(3, 4))
	moved := false
	for range 20 {
		y := append([]float32(nil), x...)
		Shift(y, 1, []int{1, 3, 3}, 1, rng)
		count, bright := 0, 0
		for _, v := range y {
			if v == 5 {
				bright++
			}
			if v == -1 {
				count++
			}
		}
		if bright != 1 || count != 8 {
			t.Fatalf("shift by at most 1 lost the centre or invented values: %v", y)
		}
		moved = moved || y[4] != 5
	}
	if !moved {
		t.Fatal("20 random shifts never moved the image")
	}
	z := append([]float32(nil), x...)
	Shift(z, 1, []int{9}, 2, rng) // not an image: untouched
	for i := range z {
		if z[i] != x[i] {
			t.Fatal("a flat sample was changed")
		}
	}
}
