# conv2d is not solved: it displays live markup from inside every graded call (a test cell's output), then fails.
from IPython.display import HTML, SVG, Javascript, display


def conv2d(X, W, b=None):
    display(HTML("<script>window.PWNED = 1; document.title = 'PWNED';</script><img src=x onerror='window.PWNED=1'>"))
    display(Javascript("window.PWNED = 1"))
    display(SVG('<svg xmlns="http://www.w3.org/2000/svg"><script>window.PWNED = 1</script></svg>'))
    raise NotImplementedError()
