// Package hookpb is the wire protocol of hook plugins: the generated gRPC service and the go-plugin glue shared by
// the agent's runner (package plugins) and the plugin SDK (package plugins/sdk).
//
// The generated code is committed so that a build never needs protoc. To regenerate after editing hook.proto
// (protoc 3.21, protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.5.1 on PATH):
//
//	go generate ./plugins/internal/hookpb
package hookpb
