import Foundation

/// Small JPEGs the shim encoder cannot produce, made once with libjpeg (quality 75) from
/// `JPEGFixtures.pixels`: a progressive RGB file and an Adobe-style CMYK file (C, M, Y = R, G, B; K = 255).
enum JPEGFixtures {
    static let width = 72
    static let height = 128

    /// The source picture, RGB.
    static func pixels() -> [UInt8] {
        var rgb: [UInt8] = []
        for y in 0..<height {
            for x in 0..<width {
                let wave = 128 + 100 * sin(Double(x) * 0.2 + Double(y) * 0.1)
                rgb += [UInt8(x * 255 / width), UInt8(y * 255 / height), UInt8(wave)]
            }
        }
        return rgb
    }

    static let progressive = decode(
        "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5"
            + "PTgyPC4zNDL/2wBDAQkJCQwLDBgNDRgyIRwhMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjIyMjL/wgAR"
            + "CACAAEgDASIAAhEBAxEB/8QAGgABAAMBAQEAAAAAAAAAAAAAAgADBAEFBv/EABgBAQEBAQEAAAAAAAAAAAAAAAQFBgMC/9oADAMBAAIQAxAA"
            + "AAH45M6LwLjrkPSYaoaBrlPUslTv4BfR41aze1QFnZL3qN7lVzskt8C4614lJlyheNkp6lgYoS6RHeJrF+kwoLUmgtZucmviceg5olBHidZX"
            + "iBedcp66wtR0DXMepZKaPny0LGLWbnqBajveo3UFVzsju8DQNbsQusrUNA2TH9lgUoy6RneJqN+kwtZbj0Fq5bQTXxWRaDmiU+//xAAYEAEB"
            + "AQEBAAAAAAAAAAAAAAABAAIQIP/aAAgBAQABBQIO5IO5IOhZOhZPGSDuSDoWToWTxkg7kg6Fk6Fk6Fkg7kg7ksnQsnQskHckHckHQsnQsnjJ"
            + "B3JB0LJ0LJ4yQdyQdCydCydCyQdyQdyWToWToWS//8QAGxEAAwEAAwEAAAAAAAAAAAAAAAECAxESMSH/2gAIAQMBAT8ByZNGTJolmTJoyZNE"
            + "eE0ZMmjJiomjJk0ZM7mTJoyYqJfwyZNGTJrkjwmjJioyYqJoyZNcmb4Ox//EABwRAAEFAQEBAAAAAAAAAAAAAAIAAwQREwESIf/aAAgBAgEB"
            + "PwGU7mFKOOh2pbuYUoweztE7wPimPezpRgzC1Ld0OlHHMLUiTZqOOh2pbuYUoweztTHvAUhDp/VGDMLUt3Q6UccwtSXeuHSZZoFLdzClGD2d"
            + "qY94GlFD2V9RvcDtKW7odKOOYWpLuh0mR423afkWajB7O1Me8BXFFD2V9U17wNcQN9L6o45haku6HSZHNu1Ic665SZa5wF//xAAUEAEAAAAA"
            + "AAAAAAAAAAAAAABw/9oACAEBAAY/AhD/xAAZEAADAQEBAAAAAAAAAAAAAAAAAREQISD/2gAIAQEAAT8hJk1mTUkGdMYPZgyazJqMejB7MGTW"
            + "ZNRiWjB7MH4mZMeAxLurB7MH4mZNRiWfAg9mD2YMmMBiWMBj2YPZgyajEsYIYlswezB+NGJd3GJd3YPZg93/2gAMAwEAAgADAAAAEGEZ7/7s"
            + "FWs3qiFMzYI6jnUTzwO/BWvLKuvQ2cN+zf/EABYRAQEBAAAAAAAAAAAAAAAAABEAAf/aAAgBAwEBPxBNhyTYcJMixl2DJdtQcm2HJtYcl2DJ"
            + "dgyyJsOTax4SQMl2DJlqDk2x4Taw5LsGTIll/8QAFxEBAQEBAAAAAAAAAAAAAAAAAQAREP/aAAgBAgEBPxAM0+uPDNtnKmWDTLjh3yLjPrjw"
            + "zbYssBQ0y44d9k0QDHhm2xZ5+NCuOHfNmtkmdGbbFU8xzA0d82aLZYBEhv/EABkQAQEBAQEBAAAAAAAAAAAAAAEAESExEP/aAAgBAQABPxDE"
            + "hhdNsliRwjTeVkRlHW3nI5GCOtq2QcuCGF02ycsSPI23nyyIxt2yDkYI62rZBy4Ia3TbJyxI4Rtu5yyI8tW3bMORgjratkHLghrbvlsnLEjh"
            + "G28uWUNrPPlkHIwR1tWyDlwQ1t3ywDliR5G28uWRG1bx5YQwR1tWyDlwQ1t2wDk4I4Rtu5yyR5at58sEY62rZBy4Ia27YBy4IaxtuxyzI2re"
            + "fPgG1bVsg5cENbd8sA5OCGts+XlyyI5azx5YHzvPHlkHLghrbtgHJwQ1tksA5f/Z"
    )

    static let cmyk = decode(
        "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwAIBgYHBgUIBwcHCQkICgwUDQwLCwwZEhMPFB0aHx4dGhwcICQuJyAiLCMcHCg3KSwwMTQ0NB8nOT04"
            + "MjwuMzQy/8AAFAgAgABIBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAAB"
            + "fQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hp"
            + "anN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5"
            + "+v/aAA4EQwBNAFkASwAAPwDwu07V4L5Nel6HZLaWakjHFe/1uWnajya53xjrAhhdQ3aity07UeTXg+s3jXd4RnOTRW7adqPJrqvBmjmWZGK9"
            + "6K3LTtR5Ne66TaLZ2YOMYFFbtp2o8muP8aayIonUNRW5adqPJrwzU7lry9IznJorctO1Hk12/grRTJIjFaK3bTtR5Ne36fbrZ2QOMYFFfDlp"
            + "2rQ8n2pdQnWzsiM4wKK3LTtR5PtXiHjXWjJI6hqK3LTtR5PtXD6bbNeXoOM5NFbtp2o8n2r3LwXowiiRitFblp2o8n2rsdVuls7MjOMCit20"
            + "7UeT7V4V4z1kyzOoaity07UeT7Vyuj2bXl4CRnJorctO1Hk+1e7+DtHEMKMV7UVu2najyfauk1u9W0s2AOMCivhy07VoeT7VznjHWBDC6hu1"
            + "Fblp2o8n2rwfWbxru8IznJorctO1Hk+1dV4M0cyzIxXvRW7adqPJ9q910m0WzswcYwKK3LTtR5PtXH+NNZEUTqGordtO1Hk+1eGancteXpGc"
            + "5NFblp2o8n2rt/BWimSRGK0VuWnajyfavb9Pt1s7IHGMCit207UeT7VwXjbWgiOoaivhy07VoeT7Vx3jXWjJI6hqK3LTtR5PtXD6bbNeXoOM"
            + "5NFblp2o8n2r3LwXowiiRitFbtp2o8n2rsdVuls7MjOMCity07UeT7V4V4z1kyzOoait207UeT7Vyuj2bXl4CRnJorctO1Hk+1e7+DtHEMKM"
            + "V7UVuWnajyfauk1u9W0s2AOMCit207UeT7V4L4w1czzuobvRXw5adq0PJ9q57Wbxru8IznJorctO1Hk+1dV4M0cyzIxXvRW5adqPJ9q910m0"
            + "WzswcYwKK3bTtR5PtXH+NNZEUTqGorctO1Hk+1eGancteXpGc5NFbtp2o8n2rt/BWimSRGK0VuWnajyfavb9Pt1s7IHGMCity07UeT7VwXjb"
            + "WgiOoait207UeT7V4nezNeXpGc5NFfDlp2rQ8n2p+m2zXl6DjOTRW5adqPJ9q9y8F6MIokYrRW5adqPJ9q7HVbpbOzIzjAordtO1Hk+1eFeM"
            + "9ZMszqGorctO1Hk+1cro9m15eAkZyaK3bTtR5PtXu/g7RxDCjFe1Fblp2o8n2rpNbvVtLNgDjAorctO1Hk+1eC+MNXM87qG70Vu2najyfasP"
            + "QbBru7UkZyaK+HLTtWh5PtXS+DNHMsyMV70VuWnajyfavddJtFs7MHGMCity07UeT7Vx/jTWRFE6hqK3bTtR5PtXhmp3LXl6RnOTRW5adqPJ"
            + "9q7fwVopkkRitFbtp2o8n2r2/T7dbOyBxjAorctO1Hk+1cF421oIjqGorctO1Hk+1eJ3szXl6RnOTRW7adqPJ9q9E8EaLvdGK0V8OWnatDyf"
            + "aux8F6MIokYrRW5adqPJ9q7HVbpbOzIzjAorctO1Hk+1eFeM9ZMszqGordtO1Hk+1cro9m15eAkZyaK3LTtR5PtXu/g7RxDCjFe1Fbtp2o8n"
            + "2rpNbvVtLNgDjAorctO1Hk+1eC+MNXM87qG70VuWnajyfasPQbBru7UkZyaK3bTtR5PtXvfhHSRBboxXtRXw5adq0PJ9q39JtFs7MHGMCity"
            + "07UeT7Vx/jTWRFE6hqK3LTtR5PtXhmp3LXl6RnOTRW7adqPJ9q7fwVopkkRitFblp2o8n2r2/T7dbOyBxjAordtO1Hk+1cF421oIjqGorctO"
            + "1Hk+1eJ3szXl6RnOTRW5adqPJ9q9E8EaLvdGK0Vu2najyfavaLaJbKyHbAor4ctO1aHk+1Q6rdLZ2ZGcYFFblp2o8n2rwrxnrJlmdQ1Fblp2"
            + "o8n2rldHs2vLwEjOTRW7adqPJ9q938HaOIYUYr2orctO1Hk+1dJrd6tpZsAcYFFbtp2o8n2rwXxhq5nndQ3eity07UeT7Vh6DYNd3akjOTRW"
            + "5adqPJ9q978I6SILdGK9qK3bTtR5PtWr4h1BbW0YA4wKK+HLTtWh5PtXM+NNZEUTqGorctO1Hk+1eGancteXpGc5NFblp2o8n2rt/BWimSRG"
            + "K0Vu2najyfavb9Pt1s7IHGMCity07UeT7VwXjbWgiOoait207UeT7V4nezNeXpGc5NFblp2o8n2r0TwRou90YrRW5adqPJ9q9otolsrIdsCi"
            + "t207UeT7V5r431varqGor4ctO1aHk+1cd4z1kyzOoaity07UeT7Vyuj2bXl4CRnJorctO1Hk+1e7+DtHEMKMV7UVu2najyfauk1u9W0s2AOM"
            + "City07UeT7V4L4w1czzuobvRW7adqPJ9qw9BsGu7tSRnJorctO1Hk+1e9+EdJEFujFe1Fblp2o8n2rV8Q6gtraMAcYFFbtp2o8n2rwPxZqpu"
            + "Lh1DZ5or4ctO1aHk+1YWp3LXl6RnOTRW5adqPJ9q7fwVopkkRitFblp2o8n2r2/T7dbOyBxjAordtO1Hk+1cF421oIjqGorctO1Hk+1eJ3sz"
            + "Xl6RnOTRW7adqPJ9q9E8EaLvdGK0VuWnajyfavaLaJbKyHbAorctO1Hk+1ea+N9b2q6hqK3bTtR5PtXjkzte3vrk0V8OWnatDyfarGj2bXl4"
            + "CRnJorctO1Hk+1e7+DtHEMKMV7UVuWnajyfauk1u9W0s2AOMCit207UeT7V4L4w1czzuobvRW5adqPJ9qw9BsGu7tSRnJordtO1Hk+1e9+Ed"
            + "JEFujFe1Fblp2o8n2rV8Q6gtraMAcYFFblp2o8n2rwPxZqpuLh1DZ5ordtO1Hk+1UfDmnNdXSsRnJor4ctO1aHk+1dR4K0UySIxWity07UeT"
            + "7V7fp9utnZA4xgUVuWnajyfauC8ba0ER1DUVu2najyfavE72Zry9IznJorctO1Hk+1eieCNF3ujFaK3bTtR5PtXtFtEtlZDtgUVuWnajyfav"
            + "NfG+t7VdQ1Fblp2o8n2rxyZ2vb31yaK3bTtR5PtXp/gjRMlGK0V8OWnatDyfauw8HaOIYUYr2orctO1Hk+1dJrd6tpZsAcYFFblp2o8n2rwX"
            + "xhq5nndQ3eit207UeT7Vh6DYNd3akjOTRW5adqPJ9q978I6SILdGK9qK3bTtR5PtWr4h1BbW0YA4wKK3LTtR5PtXgfizVTcXDqGzzRW5adqP"
            + "J9qo+HNOa6ulYjOTRW7adqPJ9q998K6WLe2RiuOKK//Z"
    )

    private static func decode(_ base64: String) -> [UInt8] {
        [UInt8](Data(base64Encoded: base64)!)
    }
}
