package spec

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Table is a scenario's data: column names and rows of values, each row as
// long as Columns.
type Table struct {
	Columns []string
	Rows    [][]string
}

// Table decodes the data's inline content (CSV with a header line, or JSON
// lines when the first non-blank byte is "{"), within the scenario bounds.
func (d *Data) Table() (Table, error) {
	raw := []byte(d.Content)
	if d.ContentBase64 != "" {
		if d.Content != "" {
			return Table{}, errors.New("set either content or content_base64, not both")
		}
		if base64.StdEncoding.DecodedLen(len(d.ContentBase64)) > MaxDataBytes+3 {
			return Table{}, fmt.Errorf("is larger than %d bytes", MaxDataBytes)
		}
		var err error
		if raw, err = base64.StdEncoding.DecodeString(d.ContentBase64); err != nil {
			return Table{}, fmt.Errorf("is not valid base64: %w", err)
		}
	}
	if len(raw) > MaxDataBytes {
		return Table{}, fmt.Errorf("is %d bytes, at most %d are allowed", len(raw), MaxDataBytes)
	}
	if !utf8.Valid(raw) {
		return Table{}, errors.New("is not UTF-8 text")
	}
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 {
		return Table{}, errors.New("has no rows")
	}
	var t Table
	var err error
	if trimmed[0] == '{' {
		t, err = jsonLines(trimmed)
	} else {
		t, err = csvTable(trimmed)
	}
	if err != nil {
		return Table{}, err
	}
	if len(t.Rows) == 0 {
		return Table{}, errors.New("has a header but no rows")
	}
	return t, nil
}

func csvTable(raw []byte) (Table, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return Table{}, fmt.Errorf("CSV header: %w", err)
	}
	t := Table{Columns: header}
	if err := checkColumns(header); err != nil {
		return Table{}, err
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return t, nil
		}
		if err != nil {
			return Table{}, fmt.Errorf("CSV: %w", err)
		}
		if len(t.Rows) == MaxDataRows {
			return Table{}, fmt.Errorf("has more than %d rows", MaxDataRows)
		}
		t.Rows = append(t.Rows, rec)
	}
}

func jsonLines(raw []byte) (Table, error) {
	var t Table
	index := map[string]int{}
	for n, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var obj map[string]any
		if err := json.Unmarshal(line, &obj); err != nil {
			return Table{}, fmt.Errorf("JSON line %d: %w", n+1, err)
		}
		if t.Columns == nil {
			for _, k := range sortedKeys(obj) {
				index[k] = len(t.Columns)
				t.Columns = append(t.Columns, k)
			}
			if err := checkColumns(t.Columns); err != nil {
				return Table{}, err
			}
		}
		if len(obj) != len(t.Columns) {
			return Table{}, fmt.Errorf("JSON line %d has %d fields, the first line has %d", n+1, len(obj), len(t.Columns))
		}
		if len(t.Rows) == MaxDataRows {
			return Table{}, fmt.Errorf("has more than %d rows", MaxDataRows)
		}
		row := make([]string, len(t.Columns))
		for k, v := range obj {
			i, ok := index[k]
			if !ok {
				return Table{}, fmt.Errorf("JSON line %d has field %q, which the first line has not", n+1, k)
			}
			switch v := v.(type) {
			case string:
				row[i] = v
			case float64:
				row[i] = strconv.FormatFloat(v, 'f', -1, 64)
			case bool:
				row[i] = strconv.FormatBool(v)
			default:
				return Table{}, fmt.Errorf("JSON line %d: field %q must be a string, number or boolean", n+1, k)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func checkColumns(cols []string) error {
	if len(cols) > MaxDataColumns {
		return fmt.Errorf("has %d columns, at most %d are allowed", len(cols), MaxDataColumns)
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if !identRe.MatchString(c) {
			return fmt.Errorf("column %q is not a name (letters, digits and _)", c)
		}
		if seen[c] {
			return fmt.Errorf("column %q appears twice", c)
		}
		seen[c] = true
	}
	return nil
}

// validate checks the data section and returns its columns and row count
// (nil and 0 without data).
func (d *Data) validate() (map[string]bool, int, FieldErrors) {
	if d == nil {
		return nil, 0, nil
	}
	var errs FieldErrors
	add := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if d.Mode == "" {
		add("scenario.data.mode", "is required (one of unique, sequential, random)")
	} else if !slices.Contains(DataModes, d.Mode) {
		add("scenario.data.mode", "unknown mode %q (one of unique, sequential, random)", d.Mode)
	}
	if d.Content == "" && d.ContentBase64 == "" {
		if d.File != "" {
			add("scenario.data.content", "is required: the API takes the rows inline (the CLIs read scenario.data.file and send its content)")
		} else {
			add("scenario.data.content", "is required (or content_base64)")
		}
		return map[string]bool{anyColumn: true}, 0, errs
	}
	field := "scenario.data.content"
	if d.ContentBase64 != "" {
		field = "scenario.data.content_base64"
	}
	t, err := d.Table()
	if err != nil {
		add(field, "%v", err)
		return map[string]bool{anyColumn: true}, 0, errs
	}
	cols := map[string]bool{}
	for _, c := range t.Columns {
		cols[c] = true
	}
	return cols, len(t.Rows), errs
}

// UniqueRows is the number of data rows when the scenario's data is in
// unique mode, and 0 otherwise (or if the data cannot be read).
func (s *Spec) UniqueRows() int {
	if s.Scenario == nil || s.Scenario.Data == nil || s.Scenario.Data.Mode != DataUnique {
		return 0
	}
	t, err := s.Scenario.Data.Table()
	if err != nil {
		return 0
	}
	return len(t.Rows)
}
