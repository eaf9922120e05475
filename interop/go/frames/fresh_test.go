package frames

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// regenerate is what to run when the committed files are stale.
const regenerate = "regenerate them with `go run ./cmd/writeframes` (in interop/go) and commit the result"

// committedDir is CommittedDir seen from this package's directory, where
// `go test` runs (CommittedDir is relative to the module, where
// cmd/writeframes runs).
var committedDir = filepath.Join("..", CommittedDir)

// TestCommittedGoFramesAreFresh writes the frame files with WriteFrames,
// the code cmd/writeframes runs, into a temporary directory and checks
// each decodes equal to its committed copy in CommittedDir (Arrow by
// decoding with data.UnmarshalArrowFrame, JSON as JSON values), and that
// the committed golden files still hold their responses by the Go SDK's
// own golden checkers.
func TestCommittedGoFramesAreFresh(t *testing.T) {
	fresh := t.TempDir()
	if err := WriteFrames(fresh); err != nil {
		t.Fatalf("WriteFrames: %v", err)
	}
	entries, err := os.ReadDir(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) == 0 {
		t.Fatal("WriteFrames wrote no files")
	}
	for _, entry := range entries {
		name := entry.Name()
		t.Run(name, func(t *testing.T) {
			committed, err := os.ReadFile(filepath.Join(committedDir, name))
			if err != nil {
				t.Fatalf("%v: %s", err, regenerate)
			}
			written, err := os.ReadFile(filepath.Join(fresh, name))
			if err != nil {
				t.Fatal(err)
			}
			var diff string
			switch filepath.Ext(name) {
			case ".arrow":
				diff = arrowDiff(t, written, committed)
			case ".json":
				diff = jsonDiff(t, written, committed)
			default:
				t.Fatalf("WriteFrames wrote %s, which this test cannot compare", name)
			}
			if diff != "" {
				t.Errorf("%s is stale (-fresh +committed):\n%s\n%s", name, diff, regenerate)
			}
		})
	}

	t.Run("goldens", func(t *testing.T) {
		// experimental/golden_response_checker.go: each committed .jsonc and
		// .txt file must still decode to its response.
		CheckGoldens(t, committedDir)
		if t.Failed() {
			t.Errorf("committed golden files are stale: %s", regenerate)
		}
	})

	t.Run("no leftovers", func(t *testing.T) {
		// Every committed file is one the writers still write.
		goldenDir := t.TempDir()
		if err := WriteGoldens(t, goldenDir); err != nil {
			t.Fatalf("WriteGoldens: %v", err)
		}
		written := map[string]bool{}
		for _, dir := range []string{fresh, goldenDir} {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				written[e.Name()] = true
			}
		}
		committed, err := os.ReadDir(committedDir)
		if err != nil {
			t.Fatal(err)
		}
		var extra []string
		for _, e := range committed {
			if !written[e.Name()] {
				extra = append(extra, e.Name())
			}
		}
		if len(extra) > 0 {
			slices.Sort(extra)
			t.Errorf("%s holds files the writers no longer write: %s; delete them and %s",
				CommittedDir, strings.Join(extra, ", "), regenerate)
		}
	})
}

func arrowDiff(t *testing.T, written, committed []byte) string {
	t.Helper()
	want, err := data.UnmarshalArrowFrame(written)
	if err != nil {
		t.Fatalf("decoding the fresh file: %v", err)
	}
	got, err := data.UnmarshalArrowFrame(committed)
	if err != nil {
		t.Fatalf("decoding the committed file: %v: %s", err, regenerate)
	}
	return frameDiff(want, got)
}

func jsonDiff(t *testing.T, written, committed []byte) string {
	t.Helper()
	var want, got any
	if err := json.Unmarshal(written, &want); err != nil {
		t.Fatalf("decoding the fresh file: %v", err)
	}
	if err := json.Unmarshal(committed, &got); err != nil {
		t.Fatalf("decoding the committed file: %v: %s", err, regenerate)
	}
	return cmp.Diff(want, got)
}

// TestFreshnessComparisonCatchesADifference is the control: the
// comparisons above report files whose content differs.
func TestFreshnessComparisonCatchesADifference(t *testing.T) {
	dir := t.TempDir()
	if err := WriteFrames(dir); err != nil {
		t.Fatalf("WriteFrames: %v", err)
	}
	read := func(name string) []byte { return readFile(t, dir, name) }
	if arrowDiff(t, read("all_types.arrow"), read("all_types.arrow")) != "" {
		t.Error("a file differs from itself")
	}
	if arrowDiff(t, read("all_types.arrow"), read("empty_all_types.arrow")) == "" {
		t.Error("Arrow files of different frames compare equal")
	}
	if jsonDiff(t, read("all_types.json"), read("empty_all_types.json")) == "" {
		t.Error("JSON files of different frames compare equal")
	}
}
