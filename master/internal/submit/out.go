package submit

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"

	"github.com/stampede-load/stampede/pkg/export"
)

// outKind is the export an --out file asks for ("" for none).
func outKind(file string) (string, error) {
	if file == "" {
		return "", nil
	}
	return export.KindOf(file)
}

// writeOut downloads the test's export that file's extension names from
// the API into file (nothing when file is empty).
func writeOut(ctx context.Context, cl *http.Client, base, id, file string) error {
	kind, err := outKind(file)
	if err != nil || kind == "" {
		return err
	}
	url := base + "/api/v1/tests/" + id
	if kind != "json" {
		url += "/" + kind
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(resp.Body, 256<<20)); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
