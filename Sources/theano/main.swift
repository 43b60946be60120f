import NDArray
import Theano

let a = vector("a")
let f = try function(inputs: [a], outputs: [a + a ** 10])
print(try f([0, 1, 2])[0])
let x = tensor(.float32, shape: [nil, 784], name: "x")
let W = tensor(.float32, shape: [10, 784], name: "W")
do { _ = try function(inputs: [x, W], outputs: [softmax(dot(x, W))]) } catch { print(error) }
let v = vector("v"), u = vector("u")
let g = try function(inputs: [v, u], outputs: [v * u])
do { _ = try g([1, 2, 3], [1, 2]) } catch { print(error) }
