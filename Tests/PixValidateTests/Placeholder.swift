import Testing

@Test func placeholderPixValidateTests() {
    #expect(Bool(true))
}
