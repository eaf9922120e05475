package host

import (
	"context"
	"fmt"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// grafana-plugin-sdk-go v0.300.0 no longer has the AdmissionControl and
// ResourceConversion services: its proto/backend.proto defines only
// Resource, Data, Diagnostics and Stream, genproto/pluginv2 has no clients
// for them and backend/grpcplugin no AdmissionGRPCPlugin or
// ConversionGRPCPlugin. The Rust SDK still serves both with the names and
// numbers of the SDK commit its proto names, so these calls are encoded
// here field by field with Go's protobuf wire package (protowire), the
// PluginContext with the SDK's own ToProto and proto.Marshal.

// rawCodec passes already-encoded messages through gRPC unchanged.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("rawCodec: %T is not *[]byte", v)
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: %T is not *[]byte", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// invokeRaw calls a unary method with an encoded request and returns the
// encoded response.
func invokeRaw(ctx context.Context, conn *grpc.ClientConn, method string, request []byte) ([]byte, error) {
	var response []byte
	err := conn.Invoke(ctx, method, &request, &response, grpc.ForceCodec(rawCodec{}))
	return response, err
}

// message appends field num as an embedded message.
func message(b []byte, num protowire.Number, m []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, m)
}

// bytesField appends a non-empty bytes or string field (proto3 omits empty
// ones).
func bytesField(b []byte, num protowire.Number, v []byte) []byte {
	if len(v) == 0 {
		return b
	}
	return message(b, num, v)
}

func varintField(b []byte, num protowire.Number, v uint64) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, v)
}

// encodePluginContext is the SDK's own encoding of a plugin context.
func encodePluginContext(ctx backend.PluginContext) ([]byte, error) {
	return proto.Marshal(backend.ToProto().PluginContext(ctx))
}

// admissionRequest is pluginv2.AdmissionRequest: 1 pluginContext,
// 2 operation, 3 kind {1 group, 2 version, 3 kind}, 4 object_bytes,
// 5 old_object_bytes.
type admissionRequest struct {
	pluginContext        backend.PluginContext
	operation            uint64 // CREATE 0, UPDATE 1, DELETE 2
	group, version, kind string
	object, oldObject    []byte
}

func (r admissionRequest) encode() ([]byte, error) {
	pc, err := encodePluginContext(r.pluginContext)
	if err != nil {
		return nil, err
	}
	var gvk []byte
	gvk = bytesField(gvk, 1, []byte(r.group))
	gvk = bytesField(gvk, 2, []byte(r.version))
	gvk = bytesField(gvk, 3, []byte(r.kind))
	var b []byte
	b = message(b, 1, pc)
	b = varintField(b, 2, r.operation)
	b = message(b, 3, gvk)
	b = bytesField(b, 4, r.object)
	b = bytesField(b, 5, r.oldObject)
	return b, nil
}

// statusResult is pluginv2.StatusResult: 1 status, 2 message, 3 reason,
// 4 code.
type statusResult struct {
	Status, Message, Reason string
	Code                    int32
}

// admissionResponse is pluginv2.ValidationResponse (1 allowed, 2 result,
// 3 warnings) or MutationResponse (the same plus 4 object_bytes).
type admissionResponse struct {
	Allowed  bool
	Result   *statusResult
	Warnings []string
	Object   []byte
}

// conversionRequest is pluginv2.ConversionRequest: 1 pluginContext, 2 uid,
// 3 objects {1 raw, 2 content_type}, 4 target_version {1 group, 2 version}.
type conversionRequest struct {
	pluginContext  backend.PluginContext
	uid            string
	objects        []rawObject
	group, version string
}

type rawObject struct {
	Raw         []byte
	ContentType string
}

func (r conversionRequest) encode() ([]byte, error) {
	pc, err := encodePluginContext(r.pluginContext)
	if err != nil {
		return nil, err
	}
	var b []byte
	b = message(b, 1, pc)
	b = bytesField(b, 2, []byte(r.uid))
	for _, o := range r.objects {
		var ob []byte
		ob = bytesField(ob, 1, o.Raw)
		ob = bytesField(ob, 2, []byte(o.ContentType))
		b = message(b, 3, ob)
	}
	var gv []byte
	gv = bytesField(gv, 1, []byte(r.group))
	gv = bytesField(gv, 2, []byte(r.version))
	b = message(b, 4, gv)
	return b, nil
}

// conversionResponse is pluginv2.ConversionResponse: 1 uid, 2 result,
// 3 objects.
type conversionResponse struct {
	UID     string
	Result  *statusResult
	Objects []rawObject
}

// fields walks the fields of an encoded message.
func fields(b []byte, visit func(num protowire.Number, typ protowire.Type, value []byte, varint uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if err := visit(num, typ, nil, v); err != nil {
				return err
			}
		case protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			if err := visit(num, typ, v, 0); err != nil {
				return err
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
		}
	}
	return nil
}

func decodeStatusResult(b []byte) (*statusResult, error) {
	s := &statusResult{}
	err := fields(b, func(num protowire.Number, _ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1:
			s.Status = string(v)
		case 2:
			s.Message = string(v)
		case 3:
			s.Reason = string(v)
		case 4:
			s.Code = int32(x)
		}
		return nil
	})
	return s, err
}

func decodeAdmissionResponse(b []byte) (*admissionResponse, error) {
	r := &admissionResponse{}
	err := fields(b, func(num protowire.Number, _ protowire.Type, v []byte, x uint64) error {
		var err error
		switch num {
		case 1:
			r.Allowed = x != 0
		case 2:
			r.Result, err = decodeStatusResult(v)
		case 3:
			r.Warnings = append(r.Warnings, string(v))
		case 4:
			r.Object = append([]byte(nil), v...)
		}
		return err
	})
	return r, err
}

func decodeConversionResponse(b []byte) (*conversionResponse, error) {
	r := &conversionResponse{}
	err := fields(b, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
		var err error
		switch num {
		case 1:
			r.UID = string(v)
		case 2:
			r.Result, err = decodeStatusResult(v)
		case 3:
			var o rawObject
			err = fields(v, func(num protowire.Number, _ protowire.Type, v []byte, _ uint64) error {
				switch num {
				case 1:
					o.Raw = append([]byte(nil), v...)
				case 2:
					o.ContentType = string(v)
				}
				return nil
			})
			r.Objects = append(r.Objects, o)
		}
		return err
	})
	return r, err
}

// The full method names, as the Rust SDK's proto names them.
const (
	validateAdmissionMethod = "/pluginv2.AdmissionControl/ValidateAdmission"
	mutateAdmissionMethod   = "/pluginv2.AdmissionControl/MutateAdmission"
	convertObjectsMethod    = "/pluginv2.ResourceConversion/ConvertObjects"
)

func admission(ctx context.Context, p *runningPlugin, method string, req admissionRequest) (*admissionResponse, error) {
	encoded, err := req.encode()
	if err != nil {
		return nil, err
	}
	raw, err := invokeRaw(ctx, p.conn, method, encoded)
	if err != nil {
		return nil, err
	}
	return decodeAdmissionResponse(raw)
}

func convertObjects(ctx context.Context, p *runningPlugin, req conversionRequest) (*conversionResponse, error) {
	encoded, err := req.encode()
	if err != nil {
		return nil, err
	}
	raw, err := invokeRaw(ctx, p.conn, convertObjectsMethod, encoded)
	if err != nil {
		return nil, err
	}
	return decodeConversionResponse(raw)
}
