package sim

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// STS GetCallerIdentity and IAM SimulatePrincipalPolicy speak the query protocol:
// form-encoded requests, XML answers.

func queryService(action string) (string, handler) {
	switch action {
	case "GetCallerIdentity":
		return "sts", getCallerIdentity
	case "SimulatePrincipalPolicy":
		return "iam", simulatePrincipalPolicy
	}
	return "", nil
}

func queryNamespace(service string) string {
	if service == "iam" {
		return "https://iam.amazonaws.com/doc/2010-05-08/"
	}
	return "https://sts.amazonaws.com/doc/2011-06-15/"
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func getCallerIdentity(c *call) (any, *apiError) {
	p := c.principal
	return fmt.Sprintf(`<GetCallerIdentityResponse xmlns="%s"><GetCallerIdentityResult><Arn>%s</Arn><UserId>%s</UserId><Account>%s</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
		queryNamespace("sts"), xmlEscape(p.CallerARN), xmlEscape(p.UserID), c.srv.st.accountID, c.requestID), nil
}

// formList reads a query-protocol list: Name.member.1, Name.member.2, ...
func formList(form map[string][]string, name string) []string {
	type item struct {
		n int
		v string
	}
	var items []item
	for k, vs := range form {
		rest, ok := strings.CutPrefix(k, name+".member.")
		if !ok || len(vs) == 0 {
			continue
		}
		n, err := strconv.Atoi(rest)
		if err != nil {
			continue
		}
		items = append(items, item{n, vs[0]})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].n < items[j].n })
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.v
	}
	return out
}

func iamError(code, format string, args ...any) *apiError {
	status := http.StatusBadRequest
	if code == "NoSuchEntity" {
		status = http.StatusNotFound
	}
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: status, Sender: true}
}

func simulatePrincipalPolicy(c *call) (any, *apiError) {
	form := c.form
	source := first(form["PolicySourceArn"])
	actions := formList(form, "ActionNames")
	resources := formList(form, "ResourceArns")
	if e := c.authorize("iam:SimulatePrincipalPolicy", source); e != nil {
		e.Code, e.Status = "AccessDenied", http.StatusForbidden
		return nil, e
	}
	var missing []string
	if source == "" {
		missing = append(missing, "Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null")
	}
	if len(actions) == 0 {
		missing = append(missing, "Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
	}
	if len(missing) > 0 {
		return nil, iamError("ValidationError", "%s", validationMessage(missing))
	}
	if !strings.HasPrefix(source, "arn:aws:iam::") {
		return nil, iamError("InvalidInput", "Invalid ARN: %s. The PolicySourceArn must be the ARN of an IAM user, group or role.", sanitizeForMessage(source))
	}
	p := c.srv.st.principalByARN(source)
	if p == nil || p.ARN != source {
		kind, name := "user", source[strings.LastIndex(source, "/")+1:]
		if strings.Contains(source, ":role/") {
			kind = "role"
		}
		return nil, iamError("NoSuchEntity", "The %s with name %s cannot be found.", kind, sanitizeForMessage(name))
	}
	if len(resources) == 0 {
		resources = []string{"*"}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<SimulatePrincipalPolicyResponse xmlns="%s"><SimulatePrincipalPolicyResult><IsTruncated>false</IsTruncated><EvaluationResults>`, queryNamespace("iam"))
	for _, a := range actions {
		for _, r := range resources {
			fmt.Fprintf(&b, `<member><EvalActionName>%s</EvalActionName><EvalResourceName>%s</EvalResourceName><EvalDecision>%s</EvalDecision><MatchedStatements/><MissingContextValues/></member>`,
				xmlEscape(a), xmlEscape(r), p.decide(a, r))
		}
	}
	fmt.Fprintf(&b, `</EvaluationResults></SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`, c.requestID)
	return b.String(), nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}
