// Tests arrive with the module's implementation (see the module's issue).
