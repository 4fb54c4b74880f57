import Hummingbird

extension PixServer {
    func addDashboardRoutes(to router: Router<PixRequestContext>) {}
}
