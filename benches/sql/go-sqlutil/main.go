// Command go-sqlutil times the Go SDK's data/sqlutil.FrameFromRows over 1,000,000 SQLite rows
// of (time, float, text): the Go half of the "SQL rows to frame" comparison with plugin-sql.
//
// It builds the same table with the same SQL as crates/plugin-sql/benches/rows.rs and the
// Rust runner (crates/plugin-sql/examples/sql_rows.rs), then runs
// `SELECT time, value, host FROM metrics` through FrameFromRows a few times and prints one
// line in the format both runners share (benches/sql/README.md):
//
//	sql-rows impl=go-sqlutil rows=1000000 iters=5 median_ms=… min_ms=… max_ms=… cpu_ms=… rows_per_s=…
//
// With -floor it times only stepping through the rows (rows.Next, no Scan), printed as
// impl=go-sql-next: the driver's share, which in database/sql already includes making each
// cell a driver.Value (the DATETIME text parsed to time.Time, the text copied).
//
// cpu_ms is the process's CPU time (user + system, all threads, so the garbage collector's
// too) per timed iteration, from /proc/self/stat: less sensitive to other load than wall time.
//
// The driver is modernc.org/sqlite (pure Go, no cgo). `_texttotime=1` makes it report the
// DATETIME column's scan type as time.Time, so sqlutil's default converters type the field
// as nullable time (data/sqlutil/converter.go NullConverters) as plugin-sql does; without it
// the column would become strings. No user converter is needed for these three columns.
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/data/sqlutil"
	_ "modernc.org/sqlite"
)

func main() {
	rows := flag.Int64("rows", 1_000_000, "rows in the metrics table")
	iters := flag.Int("iters", 5, "timed iterations after one warm-up")
	floor := flag.Bool("floor", false, "time rows.Next alone instead of FrameFromRows")
	flag.Parse()
	if err := run(*rows, *iters, *floor); err != nil {
		fmt.Fprintln(os.Stderr, "go-sqlutil:", err)
		os.Exit(1)
	}
}

func run(rows int64, iters int, floor bool) error {
	if rows < 1 || iters < 1 {
		return fmt.Errorf("-rows and -iters must be at least 1")
	}
	dir, err := os.MkdirTemp("", "sql-rows-go-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "bench.sqlite")+"?_texttotime=1")
	if err != nil {
		return err
	}
	defer db.Close()
	// One connection, as the Rust side's pool: the same SQLite connection every time.
	db.SetMaxOpenConns(1)

	ctx := context.Background()
	// The same statements as crates/plugin-sql/benches/rows.rs.
	if _, err := db.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE metrics (time DATETIME, value REAL, host TEXT);
INSERT INTO metrics
  WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
  SELECT strftime('%%Y-%%m-%%d %%H:%%M:%%f', 1700000000 + i / 10.0, 'unixepoch'), i * 0.5, 'host-' || (i %% 100)
  FROM n;`, rows-1)); err != nil {
		return fmt.Errorf("create table: %w", err)
	}

	// One warm-up run, checked, then the timed ones.
	impl, once := "go-sqlutil", func() error {
		frame, err := queryFrame(ctx, db)
		if err != nil {
			return err
		}
		if n := frame.Rows(); int64(n) != rows {
			return fmt.Errorf("frame has %d rows, want %d", n, rows)
		}
		return nil
	}
	if floor {
		impl, once = "go-sql-next", func() error {
			n, err := countRows(ctx, db)
			if err == nil && n != rows {
				err = fmt.Errorf("stepped through %d rows, want %d", n, rows)
			}
			return err
		}
	}
	frame, err := queryFrame(ctx, db)
	if err != nil {
		return err
	}
	if err := check(frame, rows); err != nil {
		return err
	}
	if err := once(); err != nil {
		return err
	}

	times := make([]time.Duration, 0, iters)
	cpuStart, cpuErr := cpuTime()
	for range iters {
		start := time.Now()
		err := once()
		elapsed := time.Since(start)
		if err != nil {
			return err
		}
		times = append(times, elapsed)
	}

	cpu := "-"
	if cpuEnd, err := cpuTime(); err == nil && cpuErr == nil {
		cpu = fmt.Sprintf("%.0f", ms(cpuEnd-cpuStart)/float64(iters))
	}

	slices.Sort(times)
	median := times[len(times)/2]
	if len(times)%2 == 0 {
		median = (times[len(times)/2-1] + times[len(times)/2]) / 2
	}
	fmt.Printf("sql-rows impl=%s rows=%d iters=%d median_ms=%.1f min_ms=%.1f max_ms=%.1f cpu_ms=%s rows_per_s=%.0f\n",
		impl, rows, iters, ms(median), ms(times[0]), ms(times[len(times)-1]), cpu, float64(rows)/median.Seconds())
	return nil
}

// queryFrame is what a Go SQL data source does per query: run it, then FrameFromRows with no
// row limit.
func queryFrame(ctx context.Context, db *sql.DB) (*data.Frame, error) {
	rows, err := db.QueryContext(ctx, "SELECT time, value, host FROM metrics")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlutil.FrameFromRows(rows, -1)
}

// countRows is the floor: the same query, stepping through the rows without scanning them.
func countRows(ctx context.Context, db *sql.DB) (int64, error) {
	rows, err := db.QueryContext(ctx, "SELECT time, value, host FROM metrics")
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// check makes sure both sides build the same frame: three nullable fields of time, float64
// and string, every row.
func check(frame *data.Frame, rows int64) error {
	want := []data.FieldType{data.FieldTypeNullableTime, data.FieldTypeNullableFloat64, data.FieldTypeNullableString}
	if len(frame.Fields) != len(want) {
		return fmt.Errorf("frame has %d fields, want %d", len(frame.Fields), len(want))
	}
	for i, f := range frame.Fields {
		if f.Type() != want[i] {
			return fmt.Errorf("field %q is %s, want %s", f.Name, f.Type(), want[i])
		}
	}
	if n := frame.Rows(); int64(n) != rows {
		return fmt.Errorf("frame has %d rows, want %d", n, rows)
	}
	first, ok := frame.Fields[0].ConcreteAt(0)
	if !ok || !first.(time.Time).Equal(time.Unix(1_700_000_000, 0)) {
		return fmt.Errorf("first time is %v, want %v", first, time.Unix(1_700_000_000, 0).UTC())
	}
	return nil
}

// cpuTime is this process's user + system CPU time from /proc/self/stat (Linux; clock ticks
// of 1/100 s), read the same way as the Rust runner so both sides count alike.
func cpuTime() (time.Duration, error) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	// Fields after the command name in parentheses (which may itself hold ")"): state is
	// field 3, utime 14, stime 15.
	end := strings.LastIndexByte(string(stat), ')')
	fields := strings.Fields(string(stat[end+1:]))
	if end < 0 || len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/self/stat")
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, err
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
