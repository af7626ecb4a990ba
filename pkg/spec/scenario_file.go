package spec

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// InlineDataFile is what the CLIs do before they run or submit a spec read
// from specPath: if it names scenario.data.file and carries no inline
// content, the file (relative to the spec file's directory unless
// absolute, at most MaxDataBytes) becomes scenario.data.content, or
// content_base64 if it is not UTF-8 text. The result is the spec as JSON;
// a spec without a data file is returned unchanged.
func InlineDataFile(body []byte, specPath string) ([]byte, error) {
	if err := boundYAML(body, MaxFileJSON); err != nil {
		return nil, err
	}
	j, err := yaml.YAMLToJSON(body)
	if err != nil {
		return body, nil //nolint:nilerr // the parser reports it with its field
	}
	var doc map[string]any
	if json.Unmarshal(j, &doc) != nil {
		return body, nil
	}
	sc, _ := doc["scenario"].(map[string]any)
	data, _ := sc["data"].(map[string]any)
	file, _ := data["file"].(string)
	if file == "" || data["content"] != nil || data["content_base64"] != nil {
		return body, nil
	}
	path := file
	if !filepath.IsAbs(path) && specPath != "-" {
		path = filepath.Join(filepath.Dir(specPath), file)
	}
	content, err := readBounded(path, MaxDataBytes)
	if err != nil {
		return nil, fmt.Errorf("scenario.data.file: %w", err)
	}
	if utf8.Valid(content) {
		data["content"] = string(content)
	} else {
		data["content_base64"] = base64.StdEncoding.EncodeToString(content)
	}
	return json.Marshal(doc)
}

func readBounded(path string, limit int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}
