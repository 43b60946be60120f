import NDArray
import Theano

let a = vector("a")
let f = try function(inputs: [a], outputs: [a + a ** 10])
print(try f([0, 1, 2])[0])
