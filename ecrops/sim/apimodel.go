package sim

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// The AWS API models (botocore's service-2.json) are the source of truth for what each
// operation accepts. The stand-in validates every JSON 1.1 request against them before
// any handler runs, so that a client is refused here exactly where AWS would refuse it.

//go:embed awsmodels/*.json
var modelFiles embed.FS

type apiModel struct {
	Metadata struct {
		TargetPrefix string `json:"targetPrefix"`
		SigningName  string `json:"signingName"`
	} `json:"metadata"`
	Operations map[string]struct {
		Input  *shapeRef `json:"input"`
		Errors []shapeRef
	} `json:"operations"`
	Shapes map[string]*shape `json:"shapes"`
}

type shapeRef struct {
	Shape string `json:"shape"`
}

type shape struct {
	Type     string              `json:"type"`
	Required []string            `json:"required"`
	Members  map[string]shapeRef `json:"members"`
	Member   *shapeRef           `json:"member"`
	Key      *shapeRef           `json:"key"`
	Value    *shapeRef           `json:"value"`
	Min      *float64            `json:"min"`
	Max      *float64            `json:"max"`
	Pattern  string              `json:"pattern"`
	Enum     []string            `json:"enum"`

	re *regexp.Regexp
	// names are the members' names, sorted: the order violations are reported in.
	names []string
}

// models loads the embedded API models once per process; they never change.
var models = sync.OnceValues(func() (*modelPair, error) {
	ecrModel, err := loadModel("ecr-service-2.json")
	if err != nil {
		return nil, err
	}
	smModel, err := loadModel("secretsmanager-service-2.json")
	if err != nil {
		return nil, err
	}
	return &modelPair{ecrModel, smModel}, nil
})

type modelPair struct{ ecr, secretsManager *apiModel }

func loadModel(file string) (*apiModel, error) {
	raw, err := modelFiles.ReadFile("awsmodels/" + file)
	if err != nil {
		return nil, err
	}
	var m apiModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for name, s := range m.Shapes {
		for member := range s.Members {
			s.names = append(s.names, member)
		}
		sort.Strings(s.names)
		if s.Pattern == "" {
			continue
		}
		// Coral checks patterns against the whole value, so every pattern is anchored here.
		re, err := regexp.Compile(`^(?:` + s.Pattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("%s: shape %s: pattern %q: %w", file, name, s.Pattern, err)
		}
		s.re = re
	}
	return &m, nil
}

// declares reports whether the operation lists the named error in its model.
func (m *apiModel) declares(op, errName string) bool {
	for _, e := range m.Operations[op].Errors {
		if e.Shape == errName {
			return true
		}
	}
	return false
}

// validate checks a decoded JSON request body against the operation's input shape and
// returns AWS's "N validation errors detected" message, or "" when the input is valid.
// A body whose JSON types do not match the model is reported as a serialization error.
func (m *apiModel) check(op string, body map[string]any) *validator {
	v := &validator{model: m}
	if o, ok := m.Operations[op]; ok && o.Input != nil {
		v.value(body, o.Input.Shape, "")
	}
	return v
}

// validationError is the error a service answers an input that breaks the model with, or
// nil. ECR answers ValidationException (Coral's "N validation errors detected: ...") where
// the operation declares it, and elsewhere InvalidParameterException in its own form (see
// ecrMessage); Secrets Manager always ValidationException.
func (m *apiModel) validationError(service, op string, body map[string]any) *apiError {
	v := m.check(op, body)
	switch {
	case v.serialization != nil:
		return clientError("SerializationException", "%s", v.serialization.Error())
	case len(v.violations) == 0:
		return nil
	case service == "ecr" && !m.declares(op, "ValidationException"):
		return clientError("InvalidParameterException", "%s", v.first.ecrMessage())
	}
	return clientError("ValidationException", "%s", validationMessage(v.violations))
}

type validator struct {
	model         *apiModel
	violations    []string
	first         *violation // the first, for ECR's InvalidParameterException form
	serialization error
}

type violation struct{ path, constraint string }

func (v *validator) fail(path string, value any, constraint string) {
	shown := "null"
	if value != nil {
		shown = "'" + fmt.Sprint(value) + "'"
		if s, ok := value.([]any); ok {
			shown = fmt.Sprintf("'%d items'", len(s))
		}
	}
	v.violations = append(v.violations,
		fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", shown, path, constraint))
	if v.first == nil {
		v.first = &violation{path, constraint}
	}
}

// ecrMessage words a violation as ECR's InvalidParameterException does, one parameter at
// a time: "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must
// satisfy regular expression '<the pattern>' '" (without the space) and "... 'must have
// length greater than or equal to 2'", as reported in https://github.com/boto/boto3/issues/3191,
// https://github.com/jenkins-x/jx/issues/1344 and https://github.com/aws/aws-dotnet-deploy/issues/549.
// The wording of the other constraints (null, enum, value range) follows the same form by
// inference: no public report of them was found.
func (x violation) ecrMessage() string {
	c := x.constraint
	if p, ok := strings.CutPrefix(c, "satisfy regular expression pattern: "); ok {
		c = "satisfy regular expression '" + p + "'"
	}
	return fmt.Sprintf("Invalid parameter at '%s' failed to satisfy constraint: 'must %s'", x.path, c)
}

func (v *validator) typeError(path, want string) {
	if v.serialization == nil {
		v.serialization = fmt.Errorf("Unexpected value type for '%s': expected %s", strings.TrimPrefix(path, "."), want)
	}
}

func (v *validator) value(val any, shapeName, path string) {
	s := v.model.Shapes[shapeName]
	if s == nil || val == nil {
		return
	}
	switch s.Type {
	case "structure":
		obj, ok := val.(map[string]any)
		if !ok {
			v.typeError(path, "an object")
			return
		}
		for _, req := range s.Required {
			if x, present := obj[req]; !present || x == nil {
				v.fail(join(path, req), nil, "not be null")
			}
		}
		for _, name := range s.names {
			if x, present := obj[name]; present {
				v.value(x, s.Members[name].Shape, join(path, name))
			}
		}
	case "list":
		items, ok := val.([]any)
		if !ok {
			v.typeError(path, "an array")
			return
		}
		v.length(path, val, float64(len(items)), s)
		for i, item := range items {
			v.value(item, s.Member.Shape, fmt.Sprintf("%s.%d.member", path, i+1))
		}
	case "map":
		obj, ok := val.(map[string]any)
		if !ok {
			v.typeError(path, "an object")
			return
		}
		v.length(path, val, float64(len(obj)), s)
		for k, x := range obj {
			v.value(k, s.Key.Shape, path+".key")
			v.value(x, s.Value.Shape, path+"."+k)
		}
	case "string":
		str, ok := val.(string)
		if !ok {
			v.typeError(path, "a string")
			return
		}
		v.length(path, str, float64(len([]rune(str))), s)
		if len(s.Enum) > 0 && !contains(s.Enum, str) {
			v.fail(path, str, "satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
		}
		if s.re != nil && !s.re.MatchString(str) {
			v.fail(path, str, "satisfy regular expression pattern: "+s.Pattern)
		}
	case "integer", "long":
		n, ok := val.(float64)
		if !ok || n != math.Trunc(n) {
			v.typeError(path, "an integer")
			return
		}
		if s.Min != nil && n < *s.Min {
			v.fail(path, int64(n), fmt.Sprintf("have value greater than or equal to %d", int64(*s.Min)))
		}
		if s.Max != nil && n > *s.Max {
			v.fail(path, int64(n), fmt.Sprintf("have value less than or equal to %d", int64(*s.Max)))
		}
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.typeError(path, "a boolean")
		}
	case "timestamp", "double":
		if _, ok := val.(float64); !ok {
			v.typeError(path, "a number")
		}
	case "blob":
		if _, ok := val.(string); !ok {
			v.typeError(path, "a base64 string")
		}
	}
}

func (v *validator) length(path string, val any, n float64, s *shape) {
	if s.Min != nil && n < *s.Min {
		v.fail(path, val, fmt.Sprintf("have length greater than or equal to %d", int64(*s.Min)))
	}
	if s.Max != nil && n > *s.Max {
		v.fail(path, val, fmt.Sprintf("have length less than or equal to %d", int64(*s.Max)))
	}
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validationMessage renders violations as AWS does.
func validationMessage(violations []string) string {
	noun := "error"
	if len(violations) > 1 {
		noun = "errors"
	}
	return fmt.Sprintf("%d validation %s detected: %s", len(violations), noun, strings.Join(violations, "; "))
}
