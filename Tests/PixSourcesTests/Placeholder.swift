import Testing

@Test func placeholderPixSourcesTests() {
    #expect(Bool(true))
}
