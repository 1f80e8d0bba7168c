"""The zoo's four networks: the one home of each model definition.

Imported by make_zoo.py (train, export, reference outputs) and by
train_step_torch.py (training-step timing). Inputs are [N,1,28,28] float32.

    resnet     ResNet-style classifier (basic blocks, identity and 1x1
               stride-2 projection shortcuts, GlobalAveragePool, view+Linear)
    mobilenet  MobileNetV3-style classifier (inverted residuals, depthwise
               convs, squeeze-excitation, ReLU and Hardswish)
    unet       small U-Net denoiser (MaxPool, ConvTranspose2d, bilinear
               Upsample, Concat skips, 1x1 conv + Sigmoid) -> [N,1,28,28]
    mlp        Flatten, Linear, LayerNorm, GELU (x2), Linear
"""
import torch
import torch.nn as nn


# ---------------------------------------------------------------- resnet

class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, 0, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        identity = x if self.shortcut is None else self.shortcut(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + identity
        return self.relu(out)


class ResNet(nn.Module):
    """conv3x3-BN-ReLU stem (16), stages 16/32/64 (stride 1/2/2), GAP, fc."""

    def __init__(self, widths=(16, 32, 64), blocks=(1, 1, 1), num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, widths[0], 3, 1, 1, bias=False),
            nn.BatchNorm2d(widths[0]),
            nn.ReLU(inplace=True))
        layers = []
        cin = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                stride = 2 if (i > 0 and j == 0) else 1
                layers.append(BasicBlock(cin, w, stride))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return self.fc(x)


# ------------------------------------------------------------- mobilenet

def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    if n < 0.9 * v:
        n += d
    return n


class SqueezeExcite(nn.Module):
    def __init__(self, ch):
        super().__init__()
        sq = make_divisible(ch // 4)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(ch, sq, 1)
        self.relu = nn.ReLU(inplace=True)
        self.fc2 = nn.Conv2d(sq, ch, 1)
        self.gate = nn.Hardsigmoid(inplace=True)

    def forward(self, x):
        s = self.gate(self.fc2(self.relu(self.fc1(self.pool(x)))))
        return x * s


class InvertedResidual(nn.Module):
    def __init__(self, cin, exp, cout, k, se, act, stride):
        super().__init__()
        Act = nn.Hardswish if act == "HS" else nn.ReLU
        self.use_res = stride == 1 and cin == cout
        self.expand = nn.Sequential(
            nn.Conv2d(cin, exp, 1, bias=False), nn.BatchNorm2d(exp), Act(inplace=True))
        self.dw = nn.Sequential(
            nn.Conv2d(exp, exp, k, stride, k // 2, groups=exp, bias=False),
            nn.BatchNorm2d(exp), Act(inplace=True))
        self.se = SqueezeExcite(exp) if se else nn.Identity()
        self.project = nn.Sequential(
            nn.Conv2d(exp, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.project(self.se(self.dw(self.expand(x))))
        if self.use_res:
            out = out + x
        return out


# (in, expanded, out, kernel, squeeze-excite, activation, stride)
MOBILENET_CFG = [
    (16, 32, 16, 3, True, "RE", 1),    # 14x14, residual
    (16, 64, 24, 3, False, "RE", 2),   # -> 7x7
    (24, 72, 24, 3, False, "RE", 1),   # residual
    (24, 96, 40, 5, True, "HS", 2),    # -> 4x4
    (40, 120, 40, 5, True, "HS", 1),   # residual
]


class MobileNetV3(nn.Module):
    """conv3x3/2-BN-Hardswish stem (16), 5 inverted residuals (MOBILENET_CFG:
    1x1 expand-BN-act, depthwise kxk-BN-act, squeeze-excitation, 1x1 project-BN,
    Add when shapes match), 1x1 conv-BN-Hardswish (192), GAP, flatten,
    Linear(192,128)-Hardswish-Dropout-Linear(128,10)."""

    def __init__(self, cfg=MOBILENET_CFG, last=192, hidden=128, num_classes=10):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(1, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16),
            nn.Hardswish(inplace=True))
        self.blocks = nn.Sequential(*[InvertedResidual(*c) for c in cfg])
        cout = cfg[-1][2]
        self.last = nn.Sequential(
            nn.Conv2d(cout, last, 1, bias=False), nn.BatchNorm2d(last),
            nn.Hardswish(inplace=True))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(
            nn.Linear(last, hidden), nn.Hardswish(inplace=True),
            nn.Dropout(0.2), nn.Linear(hidden, num_classes))

    def forward(self, x):
        x = self.last(self.blocks(self.stem(x)))
        x = self.pool(x)
        x = torch.flatten(x, 1)
        return self.classifier(x)


# ------------------------------------------------------------------ unet

def double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    """28 -> enc1(16) -> pool 14 -> enc2(32) -> pool 7 -> bottleneck(64)
    -> ConvTranspose2d x2 (32) ++ enc2 -> dec2(32)
    -> bilinear Upsample x2 ++ enc1 -> dec1(16) -> 1x1 conv -> Sigmoid."""

    def __init__(self, c=(16, 32, 64)):
        super().__init__()
        c1, c2, c3 = c
        self.enc1 = double_conv(1, c1)
        self.pool1 = nn.MaxPool2d(2)
        self.enc2 = double_conv(c1, c2)
        self.pool2 = nn.MaxPool2d(2)
        self.bottleneck = double_conv(c2, c3)
        self.up2 = nn.ConvTranspose2d(c3, c2, 2, stride=2)
        self.dec2 = double_conv(c2 + c2, c2)
        self.up1 = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False)
        self.dec1 = double_conv(c2 + c1, c1)
        self.head = nn.Conv2d(c1, 1, 1)
        self.out = nn.Sigmoid()

    def forward(self, x):
        e1 = self.enc1(x)                       # 28x28
        e2 = self.enc2(self.pool1(e1))          # 14x14
        b = self.bottleneck(self.pool2(e2))     # 7x7
        d2 = self.dec2(torch.cat([self.up2(b), e2], dim=1))    # 14x14
        d1 = self.dec1(torch.cat([self.up1(d2), e1], dim=1))   # 28x28
        return self.out(self.head(d1))


# ------------------------------------------------------------------- mlp

class MLP(nn.Module):
    """Flatten, Linear(784,256), LayerNorm, GELU, Linear(256,128), LayerNorm,
    GELU, Linear(128,10)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, 256), nn.LayerNorm(256), nn.GELU(),
            nn.Linear(256, 128), nn.LayerNorm(128), nn.GELU(),
            nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


MODELS = {
    "resnet": ResNet,
    "mobilenet": MobileNetV3,
    "unet": UNet,
    "mlp": MLP,
}


def build(name):
    return MODELS[name]()
