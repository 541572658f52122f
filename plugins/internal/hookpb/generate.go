package hookpb

//go:generate protoc -I. -I/usr/include --go_out=paths=source_relative:. --go-grpc_out=paths=source_relative:. hook.proto
