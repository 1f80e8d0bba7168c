package npy

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// header is the parsed array header: the three keys of the dictionary.
type header struct {
	descr   string
	fortran bool
	shape   []int
}

// maxDims bounds the rank of an array (NumPy allows 64 since 2.0).
const maxDims = 64

// parser reads the header dictionary, a Python literal such as
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
//
// Only what the format allows is accepted: string keys, and string, True,
// False and tuple-of-non-negative-integer values; whitespace between
// tokens; one optional trailing comma. base is the offset of the header in
// the stream, so that errors point at the offending byte.
type parser struct {
	s    string
	pos  int
	base int64
}

func (p *parser) errorf(format string, args ...any) error {
	return &FormatError{Offset: p.base + int64(p.pos), Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.s) {
		switch p.s[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace, or 0 at the end.
func (p *parser) peek() byte {
	p.skipSpace()
	if p.pos == len(p.s) {
		return 0
	}
	return p.s[p.pos]
}

func (p *parser) expect(c byte) error {
	if got := p.peek(); got != c {
		return p.errorf("header: want %q, found %s", c, p.describe())
	}
	p.pos++
	return nil
}

// describe names the token at the current position for an error message.
func (p *parser) describe() string {
	if p.pos >= len(p.s) {
		return "the end of the header"
	}
	end := min(p.pos+12, len(p.s))
	return fmt.Sprintf("%q", p.s[p.pos:end])
}

// value kinds of the header dictionary.
type value struct {
	kind  byte // 's' string, 'b' bool, 't' tuple
	str   string
	b     bool
	tuple []int
	at    int64 // offset of the value
}

func parseHeader(s string, base int64) (*header, error) {
	p := &parser{s: s, base: base}
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	vals := map[string]value{}
	for p.peek() != '}' {
		keyAt := p.pos
		if c := p.peek(); c != '\'' && c != '"' {
			return nil, p.errorf("header: want a string key, found %s", p.describe())
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := vals[key]; dup {
			p.pos = keyAt
			return nil, p.errorf("header: key %q appears twice", key)
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals[key] = v
		if p.peek() == '}' {
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
	}
	p.pos++ // '}'
	p.skipSpace()
	if p.pos != len(p.s) {
		return nil, p.errorf("header: unexpected %s after the dictionary", p.describe())
	}
	return checkKeys(vals, p)
}

func checkKeys(vals map[string]value, p *parser) (*header, error) {
	for _, k := range slices.Sorted(maps.Keys(vals)) {
		switch k {
		case "descr", "fortran_order", "shape":
		default:
			p.pos = int(vals[k].at - p.base)
			return nil, p.errorf("header: unknown key %q (want exactly descr, fortran_order and shape)", k)
		}
	}
	h := &header{}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := vals[k]; !ok {
			p.pos = len(p.s)
			return nil, p.errorf("header: no %q key", k)
		}
	}
	wrong := func(k, want string) error {
		p.pos = int(vals[k].at - p.base)
		return p.errorf("header: %s must be %s", k, want)
	}
	if v := vals["descr"]; v.kind != 's' {
		return nil, wrong("descr", "a string such as '<f4'")
	}
	if v := vals["fortran_order"]; v.kind != 'b' {
		return nil, wrong("fortran_order", "True or False")
	}
	if v := vals["shape"]; v.kind != 't' {
		return nil, wrong("shape", "a tuple of integers such as (2, 3)")
	}
	h.descr, h.fortran, h.shape = vals["descr"].str, vals["fortran_order"].b, vals["shape"].tuple
	return h, nil
}

func (p *parser) value() (value, error) {
	c := p.peek()
	v := value{at: p.base + int64(p.pos)}
	switch {
	case c == '\'' || c == '"':
		s, err := p.str()
		v.kind, v.str = 's', s
		return v, err
	case c == '(':
		t, err := p.tuple()
		v.kind, v.tuple = 't', t
		return v, err
	case c == '[':
		return v, &UnsupportedError{Offset: v.at, Msg: "structured (record) dtypes"}
	case strings.HasPrefix(p.s[p.pos:], "True"):
		p.pos += 4
		v.kind, v.b = 'b', true
	case strings.HasPrefix(p.s[p.pos:], "False"):
		p.pos += 5
		v.kind, v.b = 'b', false
	default:
		return v, p.errorf("header: want a string, True, False or a tuple, found %s", p.describe())
	}
	if p.pos < len(p.s) && isIdent(p.s[p.pos]) { // e.g. "Truex"
		return v, p.errorf("header: unexpected %s", p.describe())
	}
	return v, nil
}

func isIdent(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// str reads a quoted string without escapes (no header string needs one).
func (p *parser) str() (string, error) {
	q := p.s[p.pos]
	start := p.pos + 1
	for i := start; i < len(p.s); i++ {
		switch p.s[i] {
		case q:
			p.pos = i + 1
			return p.s[start:i], nil
		case '\\', '\n', '\r':
			p.pos = i
			return "", p.errorf("header: escapes and line breaks in strings are not allowed")
		}
	}
	return "", p.errorf("header: unterminated string")
}

// tuple reads "()", "(n,)" or "(n, m, ...)" with an optional trailing
// comma; "(n)" is an integer in Python, not a tuple, and is refused.
func (p *parser) tuple() ([]int, error) {
	open := p.pos
	p.pos++ // '('
	dims := []int{}
	commas := 0
	for p.peek() != ')' {
		if len(dims) == maxDims {
			return nil, p.errorf("header: shape has more than %d dimensions", maxDims)
		}
		d, err := p.int()
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
		if p.peek() == ')' {
			break
		}
		if err := p.expect(','); err != nil {
			return nil, err
		}
		commas++
	}
	p.pos++ // ')'
	if len(dims) == 1 && commas == 0 {
		p.pos = open
		return nil, p.errorf("header: shape (%d) is not a tuple; a one-dimensional shape is written (%d,)", dims[0], dims[0])
	}
	return dims, nil
}

// int reads a non-negative decimal integer (Python 2's "L" suffix allowed).
func (p *parser) int() (int, error) {
	start := p.pos
	n := 0
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		d := int(p.s[p.pos] - '0')
		if n > (math.MaxInt-d)/10 {
			p.pos = start
			return 0, p.errorf("header: dimension %s is too large", p.describe())
		}
		n = n*10 + d
		p.pos++
	}
	switch {
	case p.pos == start:
		return 0, p.errorf("header: want a non-negative integer dimension, found %s", p.describe())
	case p.s[start] == '0' && p.pos-start > 1:
		p.pos = start
		return 0, p.errorf("header: dimension with a leading zero")
	}
	if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') {
		p.pos++
	}
	if p.pos < len(p.s) && isIdent(p.s[p.pos]) {
		return 0, p.errorf("header: bad integer %s", p.describe())
	}
	return n, nil
}
