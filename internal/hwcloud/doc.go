// Package hwcloud is the service-neutral machinery of the Huawei Cloud API
// clients (VBS, CBR): the request engine (retries with back-off, Retry-After,
// body limits, user agent, redirects refused), endpoint URLs, the three kinds
// of credentials Huawei Cloud accepts (AK/SK signing, IAM password tokens, a
// static token), the typed errors of its services and API Gateway, request
// events for metrics, and the timestamp format of its APIs.
//
// A service client builds one Engine and one Authenticator, and sends each
// call as a Request with its own operation name and decoder.
package hwcloud
