{
  "targets": [
    {
      "target_name": "earshot_native",
      "sources": ["earshot_native.c"],
      "cflags": ["-O3", "-march=native", "-fno-math-errno", "-std=c11"],
      "libraries": ["-lopenblas"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/x86_64-linux-gnu"]
    }
  ]
}
