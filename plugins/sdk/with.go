package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// DecodeWith reads a hook's `with` into v (a pointer to a struct with json tags). Unknown keys are errors, so a
// typo in the fleet repo fails the hook instead of being ignored.
func DecodeWith(with map[string]any, v any) error {
	b, err := json.Marshal(with)
	if err != nil {
		return fmt.Errorf("with: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("with: %w", err)
	}
	return nil
}
