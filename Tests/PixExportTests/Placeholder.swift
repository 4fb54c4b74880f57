import Testing

@Test func placeholderPixExportTests() {
    #expect(Bool(true))
}
