package sparse_test

import (
	"fmt"

	"github.com/deepcompress/deepcompress/sparse"
)

// Relative indexing as in the paper's figure 2: survivors at positions 1,
// 4 and 15 of a 16-element row, with 3-bit gaps (at most 8). The step from
// 4 to 15 is too long, so a filler entry (a stored zero) bridges 8 of it.
func ExampleEncode() {
	pos := []uint32{1, 4, 15}
	gaps, fillers, err := sparse.Encode(pos, 16, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println("gaps", gaps, "fillers at entries", fillers)
	back, err := sparse.Decode(gaps, fillers, 16, 3)
	if err != nil {
		panic(err)
	}
	fmt.Println("positions", back)
	// Output:
	// gaps [1 3 8 3] fillers at entries [2]
	// positions [1 4 15]
}
