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
// from specPath: every file the spec names is read (relative to the spec
// file's directory unless absolute, each bounded) and sent inline, since
// the API takes content only:
//
//   - scenario.data.file (at most MaxDataBytes) becomes
//     scenario.data.content, or content_base64 if it is not UTF-8 text;
//   - request.tls.ca_file, cert_file and key_file become ca, cert and key.
//
// A field that already has inline content keeps it. The result is the
// spec as JSON; a spec without files is returned unchanged.
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
	changed, err := inlineData(doc, specPath)
	if err != nil {
		return nil, err
	}
	tlsChanged, err := inlineTLS(doc, specPath)
	if err != nil {
		return nil, err
	}
	if !changed && !tlsChanged {
		return body, nil
	}
	return json.Marshal(doc)
}

// relative is path taken relative to the spec file's directory.
func relative(path, specPath string) string {
	if !filepath.IsAbs(path) && specPath != "-" {
		return filepath.Join(filepath.Dir(specPath), path)
	}
	return path
}

func inlineData(doc map[string]any, specPath string) (bool, error) {
	sc, _ := doc["scenario"].(map[string]any)
	data, _ := sc["data"].(map[string]any)
	file, _ := data["file"].(string)
	if file == "" || data["content"] != nil || data["content_base64"] != nil {
		return false, nil
	}
	content, err := readBounded(relative(file, specPath), MaxDataBytes)
	if err != nil {
		return false, fmt.Errorf("scenario.data.file: %w", err)
	}
	if utf8.Valid(content) {
		data["content"] = string(content)
	} else {
		data["content_base64"] = base64.StdEncoding.EncodeToString(content)
	}
	return true, nil
}

func inlineTLS(doc map[string]any, specPath string) (bool, error) {
	req, _ := doc["request"].(map[string]any)
	t, _ := req["tls"].(map[string]any)
	changed := false
	for _, f := range []struct {
		name  string
		limit int
	}{{"ca", MaxTLSCABytes}, {"cert", MaxTLSCertBytes}, {"key", MaxTLSKeyBytes}} {
		file, _ := t[f.name+"_file"].(string)
		if file == "" || t[f.name] != nil {
			continue
		}
		content, err := readBounded(relative(file, specPath), f.limit)
		if err != nil {
			return false, fmt.Errorf("request.tls.%s_file: %w", f.name, err)
		}
		t[f.name] = string(content)
		changed = true
	}
	return changed, nil
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
