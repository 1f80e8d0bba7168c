package report

import "testing"

var compression = Table{
	Header: []string{"layer", "weights", "kept %", "bits", "note"},
	Rows: [][]string{
		{"conv1", "34,848", "84%", "8", "first | layer"},
		{"fc6", "37,748,736", "9%", "-", "the big\none"},
		{"total", "61M", "11.3%"},
	},
}

func TestTableMarkdown(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Table
		want string
	}{
		{"compression", compression, "" +
			"| layer |    weights | kept % | bits | note           |\n" +
			"| ----- | ---------: | -----: | ---: | -------------- |\n" +
			"| conv1 |     34,848 |    84% |    8 | first \\| layer |\n" +
			"| fc6   | 37,748,736 |     9% |    - | the big one    |\n" +
			"| total |        61M |  11.3% |      |                |\n"},
		{"narrow", Table{Header: []string{"a", "b"}, Rows: [][]string{{"x", "1"}, {"yy", "22", "extra"}}}, "" +
			"| a   |   b |       |\n" +
			"| --- | --: | ----- |\n" +
			"| x   |   1 |       |\n" +
			"| yy  |  22 | extra |\n"},
		{"no header", Table{Rows: [][]string{{"a"}}}, "" +
			"|     |\n" +
			"| --- |\n" +
			"| a   |\n"},
		{"empty", Table{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.t.Markdown(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTableText(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Table
		want string
	}{
		{"compression", compression, "" +
			"layer     weights  kept %  bits  note\n" +
			"-----  ----------  ------  ----  -------------\n" +
			"conv1      34,848     84%     8  first | layer\n" +
			"fc6    37,748,736      9%     -  the big one\n" +
			"total         61M   11.3%\n"},
		{"no header", Table{Rows: [][]string{{"a", "1"}, {"bbb", "10"}}}, "" +
			"a     1\n" +
			"bbb  10\n"},
		{"unicode", Table{Header: []string{"ratio", "x"}, Rows: [][]string{{"35×", "é"}}}, "" +
			"ratio  x\n" +
			"-----  -\n" +
			"  35×  é\n"},
		{"empty", Table{Header: []string{}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.t.Text(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestIsNumber(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "-1.5": true, "1,234": true, "98.12%": true, "35x": true, "35×": true,
		"1e-3": true, "9.0 MB": true, ".5": true, "+3": true,
		"conv1": false, "9812/10000 (98.12%)": false, "3 layers": false, "": false, "x1": false, "1 2": false,
	} {
		if got := isNumber(s); got != want {
			t.Errorf("isNumber(%q) = %v, want %v", s, got, want)
		}
	}
}
