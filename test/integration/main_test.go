// Package integration tests the Stampede cluster as a user runs it: a real
// ZooKeeper, and real master, worker and target processes on loopback.
package integration

func spec(model string, load map[string]any, url string) map[string]any {
	load["model"] = model
	return map[string]any{
		"name":    "it-" + model,
		"request": map[string]any{"url": url, "timeout": "2s"},
		"load":    load,
	}
}
