package sim

import (
	"fmt"
	"net/http"
)

// apiError is an error as AWS puts it on the wire: an exception name (the JSON
// protocol's __type, the query protocol's Code), a message and an HTTP status.
type apiError struct {
	Code    string
	Message string
	Status  int
	// Sender is false for faults that are the service's (5xx), as the query protocol says.
	Sender bool
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func clientError(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest, Sender: true}
}

func serverError(code, message string) *apiError {
	return &apiError{Code: code, Message: message, Status: http.StatusInternalServerError}
}

// Errors shared by every ECR handler, with AWS's wording.

func repositoryNotFound(registry, name string) *apiError {
	return clientError("RepositoryNotFoundException",
		"The repository with name '%s' does not exist in the registry with id '%s'", name, registry)
}

func ruleNotFound(registry, prefix string) *apiError {
	return clientError("PullThroughCacheRuleNotFoundException",
		"The pull through cache rule with prefix '%s' does not exist in the registry with id '%s'", prefix, registry)
}

func templateNotFound(registry, prefix string) *apiError {
	return clientError("TemplateNotFoundException",
		"The repository creation template with prefix '%s' does not exist in the registry with id '%s'", prefix, registry)
}

func invalidParameter(format string, args ...any) *apiError {
	return clientError("InvalidParameterException", format, args...)
}

func secretNotFound() *apiError {
	return clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}
