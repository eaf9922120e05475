// Command writeframes writes, with the Go SDK's own encoders, every frame
// file the Rust tests decode into crates/plugin-data/tests/data/go (or -out).
// Run it from interop/go after changing a fixture:
//
//	go run ./cmd/writeframes
package main

import (
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/example/grafana-plugin-sdk-rs/interop/go/frames"
)

func main() {
	out := flag.String("out", frames.CommittedDir, "directory to write the frame files into")
	flag.Parse()

	if err := frames.WriteFrames(*out); err != nil {
		fail(err)
	}
	if err := writeGoldens(*out); err != nil {
		fail(err)
	}
	fmt.Println("wrote", *out)
}

// writeGoldens runs the Go SDK's golden writers, which take a *testing.T,
// outside `go test`. A zero T is enough for a successful write (they only
// call t.Helper()); if writing fails they fail the T, which may stop the
// goroutine (FailNow) or panic, so they run on their own goroutine.
func writeGoldens(dir string) (err error) {
	t := new(testing.T)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("golden writer failed: %v", r)
			}
		}()
		err = frames.WriteGoldens(t, dir)
	}()
	<-done
	if err == nil && t.Failed() {
		err = fmt.Errorf("golden writer failed writing into %s", dir)
	}
	return err
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "writeframes:", err)
	os.Exit(1)
}
