package frames

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// benchFrame is the frame of crates/plugin-data/benches/json.rs, built with
// the Go SDK: time, float64 with NaN and ±Inf, int64, string (some needing
// escapes), nullable float64.
func benchFrame(rows int) *data.Frame {
	start := time.Unix(0, 1_700_000_000_000_000_000).UTC()
	times := make([]time.Time, rows)
	values := make([]float64, rows)
	counts := make([]int64, rows)
	hosts := make([]string, rows)
	maybe := make([]*float64, rows)
	for i := range rows {
		times[i] = start.Add(time.Duration(i) * time.Millisecond)
		switch {
		case i%100 == 7:
			values[i] = math.NaN()
		case i%1000 == 51:
			values[i] = math.Inf(1)
		case i%1000 == 52:
			values[i] = math.Inf(-1)
		default:
			values[i] = float64(i) / 7.0
		}
		counts[i] = int64(i)*37 - 500_000
		if i%50 == 0 {
			hosts[i] = fmt.Sprintf("<host & \"%d\">", i)
		} else {
			hosts[i] = fmt.Sprintf("host-%d", i%100)
		}
		if i%3 != 0 {
			v := float64(i%1000) * 0.25
			maybe[i] = &v
		}
	}
	return data.NewFrame("bench",
		data.NewField("time", nil, times),
		data.NewField("value", nil, values),
		data.NewField("count", nil, counts),
		data.NewField("host", nil, hosts),
		data.NewField("maybe", nil, maybe),
	)
}

// BenchmarkFrameJSON measures the Go SDK's json.Marshal and json.Unmarshal
// of the benchmark frame, and Frame.MarshalJSON, which the SDK calls for a
// QueryData response in the JSON format (backend/convert_to_protobuf.go)
// and which skips encoding/json's compacting pass; rows/s is reported, MB/s
// as the testing package computes it (encoded bytes per op).
//
// go test -bench FrameJSON -run '^$' ./frames/
func BenchmarkFrameJSON(b *testing.B) {
	for _, rows := range []int{1_000_000, 1_000} {
		frame := benchFrame(rows)
		encoded, err := json.Marshal(frame)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("marshal/rows=%d", rows), func(b *testing.B) {
			b.SetBytes(int64(len(encoded)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := json.Marshal(frame); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("MarshalJSON/rows=%d", rows), func(b *testing.B) {
			b.SetBytes(int64(len(encoded)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := frame.MarshalJSON(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(fmt.Sprintf("unmarshal/rows=%d", rows), func(b *testing.B) {
			b.SetBytes(int64(len(encoded)))
			b.ReportAllocs()
			for b.Loop() {
				var decoded data.Frame
				if err := json.Unmarshal(encoded, &decoded); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
