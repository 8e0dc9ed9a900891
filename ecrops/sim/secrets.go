package sim

import (
	"sort"
	"strings"
	"time"
)

// Secrets Manager: what a pull through cache rule's credentials need. Secrets in another
// region are held by the stand-in but, as in AWS, invisible from this region's endpoint.

var secretsHandlers = map[string]handler{
	"CreateSecret":   createSecret,
	"GetSecretValue": getSecretValue,
	"PutSecretValue": putSecretValue,
	"DescribeSecret": describeSecret,
	"ListSecrets":    listSecrets,
	"DeleteSecret":   deleteSecret,
}

type secretIn struct {
	Name                       string  `json:"Name"`
	SecretID                   string  `json:"SecretId"`
	SecretString               *string `json:"SecretString"`
	SecretBinary               *string `json:"SecretBinary"`
	KmsKeyID                   *string `json:"KmsKeyId"`
	Description                *string `json:"Description"`
	Tags                       []tag   `json:"Tags"`
	RecoveryWindowInDays       *int    `json:"RecoveryWindowInDays"`
	ForceDeleteWithoutRecovery *bool   `json:"ForceDeleteWithoutRecovery"`
}

// findSecret resolves a SecretId (name, full ARN, or ARN without its random suffix) among
// the secrets of this region.
func (st *state) findSecret(id string) *secretState {
	for _, s := range st.secrets {
		if s.Region != st.region {
			continue
		}
		if s.Name == id || s.ARN == id {
			return s
		}
		if strings.HasPrefix(id, "arn:") && len(s.ARN) > 7 && s.ARN[:len(s.ARN)-7] == id {
			return s
		}
	}
	return nil
}

func (c *call) secretCall(in *secretIn, needExisting bool) (*secretState, *apiError) {
	if e := c.decode(in); e != nil {
		return nil, e
	}
	st := c.srv.st
	id := in.SecretID
	if id == "" {
		id = in.Name
	}
	sec := st.findSecret(id)
	resource := "*"
	if sec != nil {
		resource = sec.ARN
	} else if strings.HasPrefix(id, "arn:") {
		resource = id
	}
	if e := c.authorize("secretsmanager:"+c.op, resource); e != nil {
		return nil, e
	}
	if needExisting && sec == nil {
		return nil, secretNotFound()
	}
	return sec, nil
}

func markedForDeletion(op string) *apiError {
	return clientError("InvalidRequestException", "You can't perform this operation on the secret because it was marked for deletion.")
}

func createSecret(c *call) (any, *apiError) {
	var in secretIn
	existing, e := c.secretCall(&in, false)
	if e != nil {
		return nil, e
	}
	st := c.srv.st
	if existing != nil {
		if !existing.Deleted.IsZero() {
			return nil, clientError("InvalidRequestException", "You can't create this secret because a secret with this name is already scheduled for deletion.")
		}
		return nil, clientError("ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
	}
	if in.SecretString != nil && in.SecretBinary != nil {
		return nil, clientError("InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret.")
	}
	now := c.srv.clock.Now()
	sec := &secretState{Name: in.Name, ARN: st.secretARN(st.region, in.Name), Value: str(in.SecretString),
		KMSKeyID: str(in.KmsKeyID), Region: st.region, Description: str(in.Description), Tags: in.Tags,
		Created: now, Changed: now}
	out := map[string]any{"ARN": sec.ARN, "Name": sec.Name}
	if in.SecretString != nil || in.SecretBinary != nil {
		sec.VersionID = st.newID("version")
		out["VersionId"] = sec.VersionID
	}
	st.secrets[sec.Name] = sec
	return out, nil
}

func getSecretValue(c *call) (any, *apiError) {
	var in secretIn
	sec, e := c.secretCall(&in, true)
	if e != nil {
		return nil, e
	}
	if !sec.Deleted.IsZero() {
		return nil, markedForDeletion(c.op)
	}
	if sec.VersionID == "" {
		return nil, clientError("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT")
	}
	sec.read(c.srv.clock.Now())
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.VersionID,
		"SecretString": sec.Value, "VersionStages": []string{"AWSCURRENT"}, "CreatedDate": ts(sec.Changed)}, nil
}

func putSecretValue(c *call) (any, *apiError) {
	var in secretIn
	sec, e := c.secretCall(&in, true)
	if e != nil {
		return nil, e
	}
	if !sec.Deleted.IsZero() {
		return nil, markedForDeletion(c.op)
	}
	if in.SecretString == nil && in.SecretBinary == nil {
		return nil, clientError("InvalidRequestException", "You must provide either SecretString or SecretBinary.")
	}
	sec.Value = str(in.SecretString)
	sec.VersionID = c.srv.st.newID("version")
	sec.Changed = c.srv.clock.Now()
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "VersionId": sec.VersionID,
		"VersionStages": []string{"AWSCURRENT"}}, nil
}

// read records that the secret's value was read, by GetSecretValue or by ECR for a pull
// through or a validation. AWS keeps the date only: "This value is truncated to midnight
// of the date and therefore shows only the date, not the time" (SecretListEntry's
// LastAccessedDate in the Secrets Manager API reference, as the SDKs document it).
func (sec *secretState) read(now time.Time) {
	sec.LastAccessed = now.UTC().Truncate(24 * time.Hour)
}

// secretMetadata is what DescribeSecret and ListSecrets say of a secret. The two name the
// versions' staging labels differently (the API model: DescribeSecretResponse has
// VersionIdsToStages, SecretListEntry SecretVersionsToStages); a client reading the wrong
// name gets nothing and no error, so each operation asks for its own.
func (st *state) secretMetadata(sec *secretState, versionsField string) map[string]any {
	out := map[string]any{"ARN": sec.ARN, "Name": sec.Name, "CreatedDate": ts(sec.Created),
		"LastChangedDate": ts(sec.Changed), "LastAccessedDate": ts(sec.LastAccessed), "Tags": emptyIfNil(sec.Tags)}
	// AWS leaves KmsKeyId out when the secret uses the default aws/secretsmanager key.
	if isCustomerKey(sec.KMSKeyID) {
		out["KmsKeyId"] = sec.KMSKeyID
	}
	if sec.Description != "" {
		out["Description"] = sec.Description
	}
	if !sec.Deleted.IsZero() {
		out["DeletedDate"] = ts(sec.Deleted)
	}
	if sec.VersionID != "" {
		out[versionsField] = map[string][]string{sec.VersionID: {"AWSCURRENT"}}
	}
	return out
}

func describeSecret(c *call) (any, *apiError) {
	var in secretIn
	sec, e := c.secretCall(&in, true)
	if e != nil {
		return nil, e
	}
	return c.srv.st.secretMetadata(sec, "VersionIdsToStages"), nil
}

func listSecrets(c *call) (any, *apiError) {
	var in struct {
		IncludePlannedDeletion bool    `json:"IncludePlannedDeletion"`
		MaxResults             *int    `json:"MaxResults"`
		NextToken              *string `json:"NextToken"`
		Filters                []struct {
			Key    string   `json:"Key"`
			Values []string `json:"Values"`
		} `json:"Filters"`
		SortOrder string `json:"SortOrder"`
		SortBy    string `json:"SortBy"`
	}
	if e := c.decode(&in); e != nil {
		return nil, e
	}
	if e := c.authorize("secretsmanager:ListSecrets", "*"); e != nil {
		return nil, e
	}
	st := c.srv.st
	var found []*secretState
	for _, sec := range st.secrets {
		if sec.Region != st.region || (!sec.Deleted.IsZero() && !in.IncludePlannedDeletion) {
			continue
		}
		keep := true
		for _, f := range in.Filters {
			keep = keep && secretFilterMatches(sec, f.Key, f.Values)
		}
		if keep {
			found = append(found, sec)
		}
	}
	sortSecrets(found, in.SortBy, in.SortOrder == "desc")
	out := make([]map[string]any, 0, len(found))
	for _, sec := range found {
		out = append(out, st.secretMetadata(sec, "SecretVersionsToStages"))
	}
	items, next, ok := page(c.op, out, in.NextToken, in.MaxResults, 100)
	if !ok {
		return nil, clientError("InvalidNextTokenException", "The NextToken value is invalid.")
	}
	return map[string]any{"SecretList": emptyIfNil(items), "NextToken": next}, nil
}

// sortSecrets orders a listing as ListSecrets's SortBy asks (the API model's SortByType:
// created-date, the default, last-accessed-date, last-changed-date, name). The direction
// when SortOrder is absent is not documented; the stand-in lists oldest first (asc), and
// breaks ties by name so that a listing is the same from call to call. A secret never
// read sorts as the oldest by last-accessed-date.
func sortSecrets(list []*secretState, by string, desc bool) {
	key := func(s *secretState) time.Time {
		switch by {
		case "last-accessed-date":
			return s.LastAccessed
		case "last-changed-date":
			return s.Changed
		}
		return s.Created
	}
	sort.SliceStable(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if desc {
			a, b = b, a
		}
		if by != "name" && !key(a).Equal(key(b)) {
			return key(a).Before(key(b))
		}
		return a.Name < b.Name
	})
}

// secretFilterMatches applies one ListSecrets filter: prefix matches (case-sensitive for
// names, not for descriptions), with "!" negating a value; values of one key are ORed.
func secretFilterMatches(sec *secretState, key string, values []string) bool {
	for _, v := range values {
		neg := strings.HasPrefix(v, "!")
		v = strings.TrimPrefix(v, "!")
		var hit bool
		switch key {
		case "name":
			hit = strings.HasPrefix(sec.Name, v)
		case "description":
			hit = strings.HasPrefix(strings.ToLower(sec.Description), strings.ToLower(v))
		case "tag-key", "tag-value":
			for _, t := range sec.Tags {
				hit = hit || (key == "tag-key" && strings.HasPrefix(t.Key, v)) || (key == "tag-value" && strings.HasPrefix(t.Value, v))
			}
		case "all":
			hay := strings.ToLower(sec.Name + " " + sec.Description)
			hit = strings.Contains(hay, strings.ToLower(v))
		}
		if hit != neg {
			return true
		}
	}
	return false
}

func deleteSecret(c *call) (any, *apiError) {
	var in secretIn
	sec, e := c.secretCall(&in, true)
	if e != nil {
		return nil, e
	}
	force := in.ForceDeleteWithoutRecovery != nil && *in.ForceDeleteWithoutRecovery
	if force && in.RecoveryWindowInDays != nil {
		return nil, clientError("InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	if w := in.RecoveryWindowInDays; w != nil && (*w < 7 || *w > 30) {
		return nil, clientError("InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
	}
	if !sec.Deleted.IsZero() {
		return nil, markedForDeletion(c.op)
	}
	now := c.srv.clock.Now()
	days := 30
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
	}
	deletion := now.Add(time.Duration(days) * 24 * time.Hour)
	if force {
		delete(c.srv.st.secrets, sec.Name)
		deletion = now
	} else {
		sec.Deleted = now
	}
	return map[string]any{"ARN": sec.ARN, "Name": sec.Name, "DeletionDate": ts(deletion)}, nil
}
