package fleet

// HideUserinfo exports hideUserinfo to the external tests.
var HideUserinfo = hideUserinfo
