// Package sim is a local stand-in for AWS accounts and the upstream registries they
// cache from: the ECR control plane and Secrets Manager (JSON 1.1), STS and IAM (query
// protocol), the ECR registry data plane, and look-alikes of the upstreams, all on
// loopback, checked against AWS's API models and answering with AWS's errors. It is what
// `ptcdoctor sim` serves, what `--demo` runs in process, and what the tests start through
// simtest. README.md beside this file documents what it serves, the scenario schema and
// the admin endpoints.
//
// It shares no code with the client side on purpose, so that the two cannot be wrong in
// the same way.
//
// It is safe to serve to people:
//   - every request is signed with Signature Version 4, over the body as it arrived
//     (sigv4.go);
//   - it listens on loopback unless AllowRemote was called (server.go);
//   - the admin endpoints under /_sim/ refuse other host names, other origins and writes
//     that are not JSON, and answer 400 to a field, a fault operation or a query value
//     they do not know, changing nothing (admin.go);
//   - every host a rule can name resolves into the stand-in, a look-alike or a refusing
//     stub, so that no scenario sends a client beyond loopback (stubs.go).
//
// A scenario (scenario.go) is a YAML account; generate.go adds a large generated bulk and
// failure shapes in given numbers to it (the bulk's upstream serves the images it caches,
// made on demand as the cached copies are: genupstream.go), and state.go builds the account the handlers
// (ecr.go, secrets.go, iamsts.go, registry.go, pullthrough.go) serve under one lock.
// Beside them: the archive storage class (archive.go), lifecycle policies evaluated every
// 24 hours of the clock (lifecycle.go) and validated as ECR validates them (policy.go),
// layer downloads redirected to a loopback "S3" (dataplane.go), ECR-to-ECR role trust and
// upstream registry policy (ecrupstream.go), and the registry, mutability, referrer and
// pull-time exclusion operations (ecrextra.go).
//
// A fleet scenario (accounts.go: accounts, each with its principals and regions, and a
// fleet-level generate) is served by a Fleet (fleet.go): one Server per account-region
// behind one endpoint, a request routed by its access key's account and its signature's
// region, as AWS's endpoints serve every account. What AWS keeps global is shared (the
// upstreams, the clock, an account's principals across its regions); STS AssumeRole (with
// the roles' trust) and Organizations ListAccounts span accounts and are answered there.
package sim
