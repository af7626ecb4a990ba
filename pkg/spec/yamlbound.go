package spec

import (
	"errors"
	"fmt"

	yaml3 "go.yaml.in/yaml/v3"
)

// boundYAML parses data into a node tree (aliases stay references) and
// refuses it if its JSON form would be larger than limit bytes. Sizes are
// memoized per node, so the check is linear in the document however its
// aliases nest.
func boundYAML(data []byte, limit int) error {
	var doc yaml3.Node
	if err := yaml3.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("not valid YAML or JSON: %w", err)
	}
	sz := sizer{memo: map[*yaml3.Node]int{}, limit: limit}
	n, err := sz.size(&doc)
	if err != nil {
		return err
	}
	if n > limit {
		return fmt.Errorf("the YAML expands to about %d bytes of JSON (each alias counts its anchor again); the limit is %d bytes", n, limit)
	}
	return nil
}

var errCycle = errors.New("the YAML has an alias inside its own anchor")

// sizer estimates the JSON size of YAML nodes: at least as large as the
// JSON (quotes and separators included), capped just above limit so that
// sums never overflow.
type sizer struct {
	memo  map[*yaml3.Node]int
	limit int
}

const inProgress = -1

func (s *sizer) size(n *yaml3.Node) (int, error) {
	if n == nil {
		return 0, nil
	}
	if v, ok := s.memo[n]; ok {
		if v == inProgress {
			return 0, errCycle
		}
		return v, nil
	}
	s.memo[n] = inProgress
	total := 2
	switch n.Kind {
	case yaml3.ScalarNode:
		total += len(n.Value)
	case yaml3.AliasNode:
		v, err := s.size(n.Alias)
		if err != nil {
			return 0, err
		}
		total = v
	default: // document, sequence, mapping
		for _, c := range n.Content {
			v, err := s.size(c)
			if err != nil {
				return 0, err
			}
			total = min(total+v+1, s.limit+1)
		}
	}
	total = min(total, s.limit+1)
	s.memo[n] = total
	return total, nil
}
