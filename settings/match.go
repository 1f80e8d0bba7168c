package settings

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// A name in a config or on a command line stands for weight tensors in one
// of four forms, matched against a tensor's full name and against its
// layer name (the full name less ".weight"):
//
//   - a weight name, "fc1.weight": that tensor;
//   - a layer name, "fc1": the layer's weight, "fc1.weight" (not its bias);
//   - a glob, "conv*" or "features.*.weight": "*" matches any run of
//     characters (dots and slashes included), "?" one character, "[...]"
//     a character class ("[!...]" its complement);
//   - "re:" and a regular expression (RE2 syntax), "re:fc[12]\.weight".
//
// Globs and regular expressions must match a whole name.

// Pattern is a compiled name (see Compile).
type Pattern struct {
	text string
	re   *regexp.Regexp // nil for a plain name
}

// LayerName is the layer a weight belongs to: "fc1" for "fc1.weight".
// Other names come back as they are.
func LayerName(name string) string { return strings.TrimSuffix(name, ".weight") }

// IsPattern reports whether s is a glob or a regular expression rather
// than a plain name.
func IsPattern(s string) bool {
	return strings.HasPrefix(s, "re:") || strings.ContainsAny(s, "*?[")
}

// Compile reads a name, glob or "re:" regular expression.
func Compile(s string) (*Pattern, error) {
	if s == "" {
		return nil, fmt.Errorf("empty match pattern")
	}
	if !IsPattern(s) {
		return &Pattern{text: s}, nil
	}
	expr, isRE := strings.CutPrefix(s, "re:")
	if !isRE {
		var err error
		if expr, err = globRegexp(s); err != nil {
			return nil, err
		}
	}
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %v", s, err)
	}
	return &Pattern{text: s, re: re}, nil
}

// String is the pattern as written.
func (p *Pattern) String() string { return p.text }

// Match reports whether the pattern stands for the tensor called name:
// whether it matches name or the layer name of name.
func (p *Pattern) Match(name string) bool {
	layer := LayerName(name)
	if p.re == nil {
		return p.text == name || (layer != name && p.text == layer)
	}
	return p.re.MatchString(name) || (layer != name && p.re.MatchString(layer))
}

// globRegexp translates a glob into a regular expression.
func globRegexp(glob string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(glob); i++ {
		switch c := glob[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			end := strings.IndexByte(glob[i+1:], ']')
			if end < 0 {
				return "", fmt.Errorf("pattern %q: unclosed [", glob)
			}
			class := glob[i+1 : i+1+end]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	return b.String(), nil
}

// Lookup returns the value that a map keyed by names and patterns gives
// the tensor called name: the entry of the full name if there is one,
// else that of the layer name, else that of the longest matching pattern
// (the most specific: "conv1*" before "conv*" before "*"; equal lengths in
// sorted order). A key that does not compile matches nothing (Check
// reports it).
func Lookup[V any](m map[string]V, name string) (V, bool) {
	if v, ok := m[name]; ok {
		return v, true
	}
	if layer := LayerName(name); layer != name {
		if v, ok := m[layer]; ok {
			return v, true
		}
	}
	var patterns []string
	for k := range m {
		if IsPattern(k) {
			patterns = append(patterns, k)
		}
	}
	slices.SortFunc(patterns, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	for _, k := range patterns {
		if p, err := Compile(k); err == nil && p.Match(name) {
			return m[k], true
		}
	}
	var zero V
	return zero, false
}

// Check verifies that every key of m compiles and stands for at least one
// of the tensors called names, so that a misspelt name is an error rather
// than a setting silently ignored.
func Check[V any](m map[string]V, names []string) error {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		p, err := Compile(k)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(names, p.Match) {
			return fmt.Errorf("unknown layer %q (the model's layers are %s)", k, layerList(names))
		}
	}
	return nil
}

// layerList names the layers of names, at most 20 of them, for errors.
func layerList(names []string) string {
	const most = 20
	var b strings.Builder
	b.WriteByte('[')
	for i, n := range names {
		if i == most {
			fmt.Fprintf(&b, " ... %d more", len(names)-most)
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(LayerName(n))
	}
	b.WriteByte(']')
	return b.String()
}
