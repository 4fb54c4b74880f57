import Testing

@Test func placeholderCBindingsTests() {
    #expect(Bool(true))
}
