// GPU offload check for the llama.cpp that shopdesk's `cuda` feature builds (the copy
// vendored in llama-cpp-sys-2). Loads a GGUF with N layers offloaded, evaluates a prompt
// and generates greedily, and prints the timings, so CPU and GPU runs can be compared.
// Usage: offload_check <model.gguf> <gpu_layers> <tokens_to_generate>
#include "llama.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int main(int argc, char ** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s <model.gguf> <gpu_layers> <tokens_to_generate>\n", argv[0]);
        return 2;
    }
    const int gpu_layers = std::atoi(argv[2]);
    const int n_predict = std::atoi(argv[3]);
    llama_backend_init();

    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = gpu_layers;
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { std::fprintf(stderr, "cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);

    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 2048;
    cp.n_batch = 2048;
    llama_context * ctx = llama_init_from_model(model, cp);

    std::string prompt = "<|im_start|>system\nYou are the support assistant of an online store.<|im_end|>\n"
                         "<|im_start|>user\nWrite a long, friendly explanation of how returns and refunds work, step by step.<|im_end|>\n"
                         "<|im_start|>assistant\n";
    for (int i = 0; i < 12; ++i) prompt = "Order history line " + std::to_string(i) + ": two items shipped by FedEx to Portland. " + prompt;
    std::vector<llama_token> tokens(prompt.size() + 8);
    const int n_prompt = llama_tokenize(vocab, prompt.c_str(), prompt.size(), tokens.data(), tokens.size(), true, true);
    tokens.resize(n_prompt);

    auto t0 = std::chrono::steady_clock::now();
    llama_batch batch = llama_batch_get_one(tokens.data(), n_prompt);
    if (llama_decode(ctx, batch) != 0) { std::fprintf(stderr, "prompt decode failed\n"); return 1; }
    const double prompt_s = seconds_since(t0);

    llama_sampler * smpl = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(smpl, llama_sampler_init_greedy());
    std::string out;
    int generated = 0;
    t0 = std::chrono::steady_clock::now();
    for (; generated < n_predict; ++generated) {
        llama_token tok = llama_sampler_sample(smpl, ctx, -1);
        if (llama_vocab_is_eog(vocab, tok)) {
            // Keep generating to measure a fixed count: the greedy reply ended, start a new line.
            tok = llama_vocab_nl(vocab);
        }
        char piece[256];
        const int n = llama_token_to_piece(vocab, tok, piece, sizeof piece, 0, true);
        if (n > 0 && out.size() < 300) out.append(piece, n);
        llama_batch next = llama_batch_get_one(&tok, 1);
        if (llama_decode(ctx, next) != 0) { std::fprintf(stderr, "decode failed at %d\n", generated); break; }
    }
    const double gen_s = seconds_since(t0);
    std::printf("gpu_layers=%d offloadable_layers=%d prompt_tokens=%d prompt_tok_per_s=%.1f generated=%d gen_tok_per_s=%.1f\n",
                gpu_layers, llama_model_n_layer(model) + 1, n_prompt, n_prompt / prompt_s, generated, generated / gen_s);
    std::printf("text: %s\n", out.c_str());
    llama_sampler_free(smpl);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
