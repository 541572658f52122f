// Package fleetbench generates large fleets and measures load + validate + plan on them.
package fleetbench
