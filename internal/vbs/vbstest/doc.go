// Package vbstest is an in-memory simulator of the Huawei Cloud VBS (Volume
// Backup Service) API and of the IAM token call, for tests, benchmarks and the
// exporter's demo mode.
//
// A Server answers, on one HTTP endpoint:
//
//	GET  /v2/{project_id}/backuppolicy                          (OpListPolicies)
//	GET  /v2/{project_id}/backuppolicy/{policy_id}/backuptasks  (OpListTasks)
//	GET  /v2/{project_id}/cloudvolumes/detail                   (OpListVolumes, EVS)
//	POST /v3/auth/tokens                                        (OpIAMToken)
//
// so one URL serves as the VBS, EVS and IAM endpoint. The EVS volume list
// (see SetVolumes and listVolumes) names every disk of the jobs unless set
// otherwise; it is authenticated like the VBS calls.
//
// # Authentication
//
// Unless Options.SkipAuth is set, every VBS request must carry either an
// AK/SK signature (Authorization: SDK-HMAC-SHA256 ...) or a token issued by the
// simulator's IAM call (X-Auth-Token). The signature is recomputed from the raw
// request (method, escaped path, raw query, the signed headers and the body)
// independently of the client package. Besides a correct signature the
// simulator requires: X-Sdk-Date within 15 minutes of Options.Now,
// "host" and "x-sdk-date" among SignedHeaders, X-Security-Token equal to
// Options.SecurityToken when that is set, and X-Project-Id (when present) equal
// to the project. Five signature mismatches in a row lock the access key for
// five minutes of the Options.Now clock. If both an SDK-HMAC-SHA256
// Authorization header and X-Auth-Token are present, the signature is checked.
//
// Authentication failures answer 401 with an API Gateway body
// {"error_code":"APIGW.0301","error_msg":"...","request_id":"..."}, except an
// expired token, which answers 401 with the VBS body
// {"error":{"code":"AutoBackup.0003","message":"..."}}.
//
// # Other errors
//
//   - An unknown path or method: 404 {"error_code":"APIGW.0101",...} (before
//     authentication).
//   - A project ID in the path other than Options.ProjectID (after successful
//     authentication): 403 {"error":{"code":"common.0003",...}}.
//   - An unknown or removed policy: 404 {"error":{"code":"AutoBackup.0205",...}}.
//   - A bad query parameter of the tasks call: 400
//     {"error":{"code":"VolumeBackup.0001",...}}.
//
// Every response carries an X-Request-Id header; API Gateway bodies repeat it
// in request_id.
//
// # Tasks call
//
// Jobs are ordered by created_at then job_id, both descending for
// sort_dir=desc (the default) and both ascending for sort_dir=asc, so asc is
// exactly the reverse of desc. Parameters:
//   - sort_dir: "asc" or "desc"; anything else is 400.
//   - sort_key: only "created_at"; anything else is 400.
//   - limit: default 20; a value above Options.MaxLimit (default 1000) is
//     clamped to it, as OpenStack-style services do; a non-integer or a value
//     below 1 is 400.
//   - offset: default 0; skips that many matching jobs (after the marker when
//     both are given); a non-integer or negative value is 400.
//   - marker: a job ID; the page starts right after that job in the requested
//     order (the filters do not apply to the marker itself); an ID not in the
//     policy is 400 "invalid marker".
//   - job_id: only that job (count 0 or 1).
//   - status: only jobs in that status; a value that is not one of the six
//     documented statuses is 400.
//
// A parameter with an empty value counts as absent; unknown parameters are
// ignored; repeated parameters use the first value. Query values are decoded
// with percent-decoding only ("+" stays "+"), as the signature is computed. The
// answer is {"tasks":[...],"count":N} where N is the number of jobs matching
// job_id and status, before marker, offset and limit.
//
// # Faults
//
// Faults (AddFault; Operation OpListVolumes for the EVS call) are matched,
// per request, after routing and request counting and before authentication,
// in the order they were added; the first match applies and its Times counts
// down.
//
// # Concurrency and lifecycle
//
// All methods are safe for concurrent use, also while requests are served.
// NewServer starts an httptest server on 127.0.0.1; newHandler returns an
// unstarted Server that can be started on a given listener with Start or be
// mounted as an http.Handler. Close makes hung and delayed requests return so it
// never hangs.
package vbstest
