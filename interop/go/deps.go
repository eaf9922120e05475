// Package interop holds the Go side of the interoperability suite: Go's own
// code (hashicorp/go-plugin's client and grafana-plugin-sdk-go's data
// package) drives the Rust SDK's plugins and decodes its frames.
package interop

import (
	_ "github.com/grafana/grafana-plugin-sdk-go/backend"
	_ "github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	_ "github.com/grafana/grafana-plugin-sdk-go/data"
	_ "github.com/grafana/grafana-plugin-sdk-go/data/sqlutil"
	_ "github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	_ "github.com/hashicorp/go-plugin"
)
