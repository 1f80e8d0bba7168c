package graph

import (
	"errors"
	"fmt"
)

// maxNameInMessage bounds how much of a name an error message repeats, so a
// hostile file cannot make the message itself huge.
const maxNameInMessage = 80

// Short returns s cut to a length fit for an error message.
func Short(s string) string {
	if len(s) <= maxNameInMessage {
		return s
	}
	return s[:maxNameInMessage] + "…"
}

// NodeError reports a problem with one node.
type NodeError struct {
	Node string // node name (or "#index" when unnamed)
	Op   string
	Err  error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("graph: node %s (%s): %v", Short(e.Node), Short(e.Op), e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// ErrCycle reports a graph whose nodes depend on each other in a loop.
var ErrCycle = errors.New("the nodes form a cycle")

// Label names node i for messages: its name, or "#i" when it has none.
func (g *Graph) Label(i int) string {
	if g.Nodes[i].Name != "" {
		return g.Nodes[i].Name
	}
	return fmt.Sprintf("#%d", i)
}

// Order checks that the graph is well formed and returns its nodes in an
// order where every node comes after the producers of its inputs (Kahn's
// algorithm, linear in nodes plus edges; among ready nodes the file's
// order is kept). Well formed means: every value has exactly one source (a
// graph input, a parameter or one node output), every node input has a
// source, every graph output has one, and there is no cycle.
func (g *Graph) Order() ([]int, error) {
	producer := make(map[string]int, len(g.Nodes)*2) // value -> node index, -1 input/param
	for _, v := range g.Inputs {
		if v.Name == "" {
			return nil, errors.New("graph: an input has no name")
		}
		if _, dup := producer[v.Name]; dup {
			return nil, fmt.Errorf("graph: input %s is declared twice", Short(v.Name))
		}
		producer[v.Name] = -1
	}
	for name := range g.Params {
		if _, dup := producer[name]; dup {
			return nil, fmt.Errorf("graph: input %s is also a parameter", Short(name))
		}
		producer[name] = -1
	}
	for i, n := range g.Nodes {
		for _, o := range n.Outputs {
			if o == "" {
				continue
			}
			if _, dup := producer[o]; dup {
				return nil, &NodeError{Node: g.Label(i), Op: n.Op, Err: fmt.Errorf("output %s is already produced elsewhere", Short(o))}
			}
			producer[o] = i
		}
	}
	pending := make([]int, len(g.Nodes))     // unfinished producers per node
	consumers := make([][]int, len(g.Nodes)) // node -> nodes reading its outputs
	for i, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in == "" {
				continue
			}
			p, ok := producer[in]
			if !ok {
				return nil, &NodeError{Node: g.Label(i), Op: n.Op, Err: fmt.Errorf("input %s is produced by no node, input or parameter", Short(in))}
			}
			if p >= 0 {
				pending[i]++
				consumers[p] = append(consumers[p], i)
			}
		}
	}
	for _, v := range g.Outputs {
		if _, ok := producer[v.Name]; !ok {
			return nil, fmt.Errorf("graph: output %s is produced by no node, input or parameter", Short(v.Name))
		}
	}
	order := make([]int, 0, len(g.Nodes))
	for i := range g.Nodes {
		if pending[i] == 0 {
			order = append(order, i)
		}
	}
	for k := 0; k < len(order); k++ {
		for _, c := range consumers[order[k]] {
			if pending[c]--; pending[c] == 0 {
				order = append(order, c)
			}
		}
	}
	if len(order) != len(g.Nodes) {
		for i := range g.Nodes {
			if pending[i] > 0 {
				return nil, &NodeError{Node: g.Label(i), Op: g.Nodes[i].Op, Err: ErrCycle}
			}
		}
	}
	return order, nil
}
