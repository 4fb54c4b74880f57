import Testing

@Test func placeholderPixCoordinateTests() {
    #expect(Bool(true))
}
