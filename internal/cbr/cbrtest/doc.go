// Package cbrtest is an in-memory simulator of the Huawei Cloud CBR (Cloud
// Backup and Recovery) API, for tests, benchmarks and the exporter's demo
// mode. It serves, on one loopback HTTP endpoint:
//
//	GET /v3/{project_id}/operation-logs                   (OpListOperationLogs)
//	GET /v3/{project_id}/operation-logs/{operation_log_id} (OpShowOperationLog)
//	GET /v3/{project_id}/policies                         (OpListPolicies)
//	GET /v3/{project_id}/vaults                           (OpListVaults)
//
// # Authentication
//
// Unless Options.SkipAuth is set, every request must carry an AK/SK
// signature (Authorization: SDK-HMAC-SHA256 ...) made with Options.AccessKey
// and SecretKey, or X-Auth-Token equal to one of Options.Tokens. The
// signature is recomputed from the raw request (method, escaped path, raw
// query, the signed headers, the body hash) by this package's own code,
// independently of the client; X-Sdk-Date must be within 15 minutes of
// Options.Now and SignedHeaders must include host and x-sdk-date, as in
// vbstest. X-Project-Id, when present, must equal the project. Failures
// answer 401 with an API Gateway body {"error_code":"APIGW.0301",...}.
//
// # Errors
//
// CBR error bodies are flat: {"error_code":"BackupService.6500",
// "error_msg":"..."}. An unknown path answers 404 APIGW.0101; another
// project in the path 403 BackupService.8600; a bad query parameter 400
// BackupService.9900; an unknown task 404 BackupService.6500. Every
// response carries X-Request-Id.
//
// # Task list
//
// Parameters: limit (1..Options.MaxLimit, default 1000; larger is 400),
// offset (0-based, ≥ 0), start_time and end_time (only the documented
// "2006-01-02T15:04:05Z" form; inclusive bounds on the field named by
// Options.TimeFilter, created_at by default), status (one of the six
// documented values), operation_type, resource_id, vault_id. Unknown
// parameters are ignored. The order is Options.Order (newest first by
// default); there is no sort parameter, as in the real API. "count" is the
// number of tasks matching the filters. Task times are written in the
// documented formats in turn: "...Z", "....000+00:00", "....000000" (no
// zone) and "... " with a space.
//
// # Faults
//
// AddFault makes matching requests fail (an HTTP status with a CBR or API
// Gateway body), wait (a delay) or both; OnPage runs a callback after each
// task page is rendered and before it is sent, so that a test can add or
// remove tasks between two pages of one walk.
//
// All methods are safe for concurrent use.
package cbrtest
