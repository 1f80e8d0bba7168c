package report

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Table is a table of text cells for the report: Markdown writes it into
// REPORT.md and Text prints the same table on a terminal.
//
// Rows shorter than the widest row (or the header) are padded with empty
// cells, so ragged input never loses a cell. A column whose cells are all
// numbers (optionally with a short unit such as "%", "x" or " MB"; empty
// cells and "-" don't count) is right-aligned. Widths count runes, so
// wide East Asian characters will misalign.
type Table struct {
	Header []string
	Rows   [][]string
}

// Markdown returns the table as a GitHub-flavoured Markdown pipe table
// with padded columns, one line per row, ending in a newline; numeric
// columns are marked right-aligned ("---:"). Pipes in cells are escaped
// and newlines turned into spaces. An empty table gives "".
func (t Table) Markdown() string {
	cells := t.cells(func(s string) string {
		s = strings.ReplaceAll(s, "\\|", "|") // don't escape twice
		return strings.ReplaceAll(s, "|", "\\|")
	})
	if cells == nil {
		return ""
	}
	widths, right := layout(cells)
	var b strings.Builder
	rule := make([]string, len(widths))
	for i := range widths {
		widths[i] = max(widths[i], 3) // the shortest rule GitHub accepts
		rule[i] = strings.Repeat("-", widths[i])
		if right[i] {
			rule[i] = rule[i][1:] + ":"
		}
	}
	writeRow(&b, "| ", " | ", " |", cells[0], widths, right)
	b.WriteString("| " + strings.Join(rule, " | ") + " |\n")
	for _, row := range cells[1:] {
		writeRow(&b, "| ", " | ", " |", row, widths, right)
	}
	return b.String()
}

// Text returns the table as plain columns two spaces apart, the header
// underlined with dashes, each line ending in a newline and without
// trailing spaces, for printing on a terminal. An empty table gives "";
// a table without a header is printed without the header and rule.
func (t Table) Text() string {
	cells := t.cells(func(s string) string { return s })
	if cells == nil {
		return ""
	}
	widths, right := layout(cells)
	var b strings.Builder
	body := cells[1:]
	if len(t.Header) > 0 {
		rule := make([]string, len(widths))
		for i, w := range widths {
			rule[i] = strings.Repeat("-", w)
		}
		writeRow(&b, "", "  ", "", cells[0], widths, right)
		writeRow(&b, "", "  ", "", rule, widths, right)
	}
	for _, row := range body {
		writeRow(&b, "", "  ", "", row, widths, right)
	}
	return b.String()
}

// cells returns the header followed by the rows, all padded to the same
// number of columns, with each cell cleaned by esc; nil for an empty table.
func (t Table) cells(esc func(string) string) [][]string {
	cols := len(t.Header)
	for _, r := range t.Rows {
		cols = max(cols, len(r))
	}
	if cols == 0 {
		return nil
	}
	out := make([][]string, 0, len(t.Rows)+1)
	for _, r := range append([][]string{t.Header}, t.Rows...) {
		row := make([]string, cols)
		for i, c := range r {
			c = strings.ReplaceAll(strings.ReplaceAll(c, "\r\n", " "), "\n", " ")
			row[i] = esc(strings.TrimSpace(c))
		}
		out = append(out, row)
	}
	return out
}

// layout returns each column's width in runes and whether it is numeric.
func layout(cells [][]string) (widths []int, right []bool) {
	widths = make([]int, len(cells[0]))
	right = make([]bool, len(cells[0]))
	for i := range widths {
		numbers, others := 0, 0
		for r, row := range cells {
			widths[i] = max(widths[i], utf8.RuneCountInString(row[i]))
			switch c := row[i]; {
			case r == 0 || c == "" || c == "-" || c == "—":
			case isNumber(c):
				numbers++
			default:
				others++
			}
		}
		right[i] = numbers > 0 && others == 0
	}
	return widths, right
}

// writeRow writes one line: open, the padded cells joined by sep, close,
// with trailing spaces trimmed.
func writeRow(b *strings.Builder, open, sep, close string, row []string, widths []int, right []bool) {
	var line strings.Builder
	line.WriteString(open)
	for i, c := range row {
		if i > 0 {
			line.WriteString(sep)
		}
		pad := strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c))
		if right[i] {
			line.WriteString(pad + c)
		} else {
			line.WriteString(c + pad)
		}
	}
	line.WriteString(close)
	b.WriteString(strings.TrimRight(line.String(), " "))
	b.WriteByte('\n')
}

// numberCell matches a number with an optional unit of up to four
// non-digit characters: "1,234", "-0.5", "98.12%", "35x", "1e-3", "9.0 MB".
var numberCell = regexp.MustCompile(`^[-+]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][-+]?\d+)?( ?[^\d\s]{1,4})?$`)

func isNumber(s string) bool { return numberCell.MatchString(s) }
