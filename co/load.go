package co

import "github.com/coalescent/coal/coins"

// ConsoleSlot is the device slot of the console, where the standard
// library's .co.console expects it: coins.ConsoleSlot.
const ConsoleSlot = coins.ConsoleSlot
